//! An indexed binary min-heap of firing times, one per channel, for the next-reaction
//! method: the earliest is at the top, and any channel's time can be changed in O(log n).

#[derive(Clone, Debug)]
pub struct IndexedHeap {
    /// Channels in heap order.
    heap: Vec<u32>,
    /// Where each channel sits in `heap`.
    pos: Vec<u32>,
    /// Each channel's time.
    key: Vec<f64>,
}

impl IndexedHeap {
    /// A heap over channels `0..keys.len()` with these times.
    pub fn new(keys: Vec<f64>) -> IndexedHeap {
        let n = keys.len();
        let mut h = IndexedHeap {
            heap: (0..n as u32).collect(),
            pos: (0..n as u32).collect(),
            key: keys,
        };
        for i in (0..n / 2).rev() {
            h.sift_down(i);
        }
        h
    }

    /// The earliest (time, channel), if there are channels.
    pub fn top(&self) -> Option<(f64, usize)> {
        self.heap
            .first()
            .map(|&c| (self.key[c as usize], c as usize))
    }

    pub fn key(&self, c: usize) -> f64 {
        self.key[c]
    }

    /// Change channel `c`'s time.
    pub fn update(&mut self, c: usize, time: f64) {
        let old = self.key[c];
        self.key[c] = time;
        let at = self.pos[c] as usize;
        if time < old {
            self.sift_up(at);
        } else {
            self.sift_down(at);
        }
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.pos[self.heap[i] as usize] = i as u32;
        self.pos[self.heap[j] as usize] = j as u32;
    }

    fn less(&self, i: usize, j: usize) -> bool {
        self.key[self.heap[i] as usize] < self.key[self.heap[j] as usize]
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(i, parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < n && self.less(l, least) {
                least = l;
            }
            if r < n && self.less(r, least) {
                least = r;
            }
            if least == i {
                break;
            }
            self.swap(i, least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_earliest_on_top_through_updates() {
        let mut h = IndexedHeap::new(vec![5.0, 3.0, f64::INFINITY, 4.0, 1.0]);
        assert_eq!(h.top(), Some((1.0, 4)));
        h.update(4, 10.0);
        assert_eq!(h.top(), Some((3.0, 1)));
        h.update(2, 0.5);
        assert_eq!(h.top(), Some((0.5, 2)));
        h.update(2, f64::INFINITY);
        h.update(1, f64::INFINITY);
        assert_eq!(h.top(), Some((4.0, 3)));
        // Drain in order by pushing each top to infinity.
        let mut seen = Vec::new();
        while let Some((t, c)) = h.top() {
            if t.is_infinite() {
                break;
            }
            seen.push(c);
            h.update(c, f64::INFINITY);
        }
        assert_eq!(seen, [3, 0, 4]);
    }
}
