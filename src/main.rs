use ito::source::*;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sm = SourceMap::new();
    let id = sm.add(SourceFile::new(path.clone(), None, text.clone()));
    let (file, diags) = ito::syntax::parse(id, &text);
    print!("{}", ito::syntax::print::print_file(&file, &sm));
    print!("{}", ito::diag::render_all(&diags, &sm, false));
}
