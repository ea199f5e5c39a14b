//! The private server's ownership: one process owns it and stops it on exit; others share it; a
//! server a crashed run left behind is taken over, so none is ever orphaned.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

use adapter_postgres::local::LocalServer;

/// Whether a server runs on `data_dir`, as `pg_ctl status` says (run as the server's user).
fn running(data_dir: &Path) -> bool {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .find(|p| p.join("pg_ctl").exists())
        .expect("PostgreSQL is installed");
    let as_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut command = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join("pg_ctl"));
        c
    } else {
        Command::new(bin.join("pg_ctl"))
    };
    command
        .arg("-D")
        .arg(data_dir)
        .arg("status")
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn a_server_left_by_a_crash_is_taken_over_and_a_shared_one_is_left_to_its_owner() {
    let root = std::env::temp_dir().join(format!("hc3-owner-test-{}", std::process::id()));
    let data_dir = root.join("pg");
    // A run that "crashes": its server keeps running, its lock goes with the process.
    let crashed = LocalServer::start(&data_dir, None).unwrap();
    drop(crashed);
    let data_dir = std::fs::canonicalize(&data_dir).unwrap();
    assert!(running(&data_dir), "a crash leaves the server running");

    // The next run takes it over and stops it when it exits.
    let next = LocalServer::start(&data_dir, None).unwrap();
    // A command beside it shares the server and leaves it running.
    let beside = LocalServer::start(&data_dir, None).unwrap();
    beside.stop().unwrap();
    assert!(
        running(&data_dir),
        "a sharer does not stop the owner's server"
    );
    next.stop().unwrap();
    assert!(
        !running(&data_dir),
        "the owner stops it: nothing is orphaned"
    );
    drop((next, beside));

    // Started afresh, it is owned and stopped by its starter too.
    let fresh = LocalServer::start(&data_dir, None).unwrap();
    assert!(running(&data_dir));
    fresh.stop().unwrap();
    assert!(!running(&data_dir));
    drop(fresh);
    std::fs::remove_dir_all(&root).unwrap();
}
