//! `ito repl`: scripted sessions (stdin piped) snapshot-tested, and Ctrl-C during a run.

use ito::repl::{Control, Interrupt, Session, Settings};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// Run `ito repl [file]` with `script` on stdin; the transcript with run times redacted.
fn session(file: Option<&str>, script: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ito"));
    cmd.args(["--color", "never", "repl"]);
    cmd.args(file);
    let mut child = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ito binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(script.as_bytes())
        .expect("the script is written");
    let out = child.wait_with_output().expect("the session ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    redact_times(&String::from_utf8_lossy(&out.stdout))
}

/// `in 0.03 s` → `in [time] s`: the only part of a transcript that changes between runs.
fn redact_times(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.rfind(" in ") {
            Some(i)
                if line.ends_with(" s") && line[i + 4..line.len() - 2].parse::<f64>().is_ok() =>
            {
                out.push_str(&line[..i]);
                out.push_str(" in [time] s");
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// A session as a test drives it: no colour, no progress bars, Ctrl-C from `interrupt`.
fn quiet_session(interrupt: &'static Interrupt) -> Session {
    Session::new(
        Settings {
            color: false,
            width: 80,
            progress: false,
        },
        interrupt,
    )
}

/// Press Ctrl-C (on another thread) once something interruptible has been going a while.
fn press_ctrl_c_when_running(interrupt: &'static Interrupt) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        while !interrupt.running() {
            assert!(started.elapsed().as_secs() < 60, "nothing started");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(interrupt.request(), "it was going");
    })
}

#[test]
fn a_newcomer_runs_the_epidemic_and_sees_its_curve() {
    let t = session(
        Some("examples/sir.sde"),
        ":help\n:info\n:set beta = 0.4\nbeta / gamma\n:run paths=1000 t_end=60 seed=1\n:plot I\n:summary\n",
    );
    insta::assert_snapshot!(t);
}

#[test]
fn errors_are_reported_and_the_session_goes_on() {
    let t = session(
        Some("examples/sir.sde"),
        ":bogus\n:re\n:summary\n:set gama = 1\n:set S = 3\n:set beta = -1\nbeta +* 2\nbeta + undefined\n\
         :run pahts=10\n:run method=em\n:use Nope\n:load no/such/file.sde\n:plot\n:run paths=10 t_end=5 seed=2\n:plot Q\n\
         :save out.txt\n:plot I > out.png\n:set =\n:save\n:plot x[\n:info\n",
    );
    insta::assert_snapshot!(t);
}

#[test]
fn functions_and_models_are_defined_inline() {
    let t = session(
        None,
        "1 + 2 * 3\n2 < 3\n[1, 2] * 2.5\n\
         fn hill(x: real, k: real, n: real) = x^n / (k^n + x^n)\nhill(2.0, 1.0, 4.0)\n:type hill(2.0, 1.0, 4.0)\n\
         fn double(x: real) = x\nfn double(x: real) = 2 * x\ndouble(3.0)\n\
         /// Exponential decay with a little noise.\nmodel Decay {\n  param k: real<lower=0> = 0.5\n  state x = 1.0\n  dx = -k * x dt + 0.1 dW\n}\n\
         :doc Decay\nk * x\n:run paths=100 t_end=2 every=0.5 seed=4 threads=1\n:summary\n\
         model Decay {\n  param k: real = 3\n  state x = 2.0\n  dx = -k * x dt\n}\n:info\n\
         model Broken {\n  state y = 1\n  dy = -q * y dt\n}\n:models\n",
    );
    insta::assert_snapshot!(t);
}

#[test]
fn reload_picks_up_the_edited_file_and_keeps_the_settings_that_apply() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("decay.sde");
    let model = |param: &str, init: f64| {
        format!(
            "model Decay {{\n  param {param}: real = 0.5\n  param sigma: real = 0.1\n  state x = {init}\n  dx = -{param} * x dt + sigma dW\n}}\n"
        )
    };
    std::fs::write(&file, model("k", 1.0)).expect("the model is written");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ito"))
        .args(["--color", "never", "repl"])
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the ito binary runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    writeln!(stdin, ":set k = 2\n:set sigma = 0.3\nx").expect("written");
    // Edit the file once the session has answered `x` (it reads its input as it comes).
    let mut transcript = String::new();
    while !transcript.ends_with("1.0\n") {
        let before = transcript.len();
        stdout
            .read_line(&mut transcript)
            .expect("the session answers");
        assert!(
            transcript.len() > before,
            "the session ended early:\n{transcript}"
        );
    }
    std::fs::write(&file, model("rate", 4.0)).expect("the model is rewritten");
    // Until :reload the session keeps the text it read: `x` is still 1.
    writeln!(stdin, "x\n:reload\n:set\nx\n:info").expect("written");
    drop(stdin);
    stdout
        .read_to_string(&mut transcript)
        .expect("the session ends");
    assert!(child.wait().expect("the session ends").success());
    let text = transcript.replace(&*file.to_string_lossy(), "decay.sde");
    insta::assert_snapshot!(text);
}

#[test]
fn ctrl_c_stops_a_run_and_the_session_goes_on() {
    static INTERRUPT: Interrupt = Interrupt::new();
    let mut s = quiet_session(&INTERRUPT);
    let mut out = Vec::new();
    s.load(std::path::Path::new("examples/sir.sde"), &mut out);
    // A run of this size takes minutes.
    let presser = press_ctrl_c_when_running(&INTERRUPT);
    let control = s.execute(":run paths=100000000 t_end=100 seed=1", &mut out);
    presser.join().expect("the presser finishes");
    assert_eq!(control, Control::Continue);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(text.trim_end().ends_with("interrupted"), "{text}");
    // The session is alive: the next command works, and a new run is not cancelled.
    let mut out = Vec::new();
    s.execute(":run paths=10 t_end=1 seed=1", &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(text.contains("ran 10 paths of SIR"), "{text}");
    assert!(!INTERRUPT.running());
}

#[test]
fn infer_reports_what_ito_infer_reports() {
    let t = session(
        Some("examples/eight_schools.sde"),
        ":infer\n:data examples/eight_schools.data.json\n:infer method=gibbs\n\
         :infer chains=2 warmup=200 draws=200 seed=1\n",
    );
    assert!(
        t.contains("error: data `J` has no value: give a data file with :data, or :set J=…"),
        "{t}"
    );
    assert!(t.contains("not `gibbs`"), "{t}");
    let cli = Command::new(env!("CARGO_BIN_EXE_ito"))
        .args(["infer", "examples/eight_schools.sde", "--data"])
        .args(["examples/eight_schools.data.json", "--chains", "2"])
        .args(["--warmup", "200", "--draws", "200", "--seed", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ito infer runs");
    let table = String::from_utf8_lossy(&cli.stdout);
    let rows: Vec<&str> = table.lines().take_while(|l| !l.is_empty()).collect();
    assert!(rows.len() > 10 && rows[0].starts_with("name"), "{table}");
    for row in rows {
        assert!(t.contains(row), "the REPL's table lacks\n{row}\nin\n{t}");
    }
}

#[test]
fn ctrl_c_stops_inference_too() {
    static INTERRUPT: Interrupt = Interrupt::new();
    let mut s = quiet_session(&INTERRUPT);
    let mut out = Vec::new();
    s.load(std::path::Path::new("examples/eight_schools.sde"), &mut out);
    s.execute(":data examples/eight_schools.data.json", &mut out);
    let presser = press_ctrl_c_when_running(&INTERRUPT);
    let mut out = Vec::new();
    s.execute(":infer draws=100000000 seed=1", &mut out);
    presser.join().expect("the presser finishes");
    let text = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(text.trim_end(), "interrupted");
    let mut out = Vec::new();
    s.execute(":infer chains=1 warmup=20 draws=20 seed=1", &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(
        text.contains("1 chain of 20 warm-up + 20 draws with nuts"),
        "{text}"
    );
}
