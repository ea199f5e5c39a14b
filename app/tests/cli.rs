//! The binary's behaviour at the edges: bad configuration and a machine without PostgreSQL.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

fn app() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_app"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

#[test]
fn without_postgresql_the_app_fails_with_one_clear_line() {
    let data = std::env::temp_dir().join(format!("hc3-cli-{}", std::process::id()));
    let output = app()
        .arg("migrate")
        .env("DATA_DIR", &data)
        .env("PG_BIN_DIR", "/nonexistent/postgresql/bin")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("PostgreSQL is not installed"),
        "{stderr}"
    );
    assert!(errors[0].contains("DATABASE_URL"), "{stderr}");
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn bad_configuration_is_refused_before_anything_starts() {
    let output = app().env("BIND", "not-an-address").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("configuration error: BIND"), "{stderr}");
}

#[test]
fn create_owner_needs_a_password_on_standard_input() {
    let output = app()
        .args(["create-owner", "--username", "boss"])
        .env("DATABASE_URL", "postgres://127.0.0.1:1/none")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("no password given"), "{stderr}");
}
