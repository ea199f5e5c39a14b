//! A private PostgreSQL server owned by the app: `initdb` + `pg_ctl` from the PostgreSQL installed
//! on the machine, data in a folder of ours, listening only on a unix socket.
//!
//! `app serve` uses [`LocalServer::start`] on `$DATA_DIR/pg` (reused across runs, stopped on exit);
//! tests use [`LocalServer::start_ephemeral`], a throwaway server in a temporary folder that a small
//! watchdog stops and deletes once the test process exits. PostgreSQL refuses to run as root, so
//! when we are root the server runs as the `postgres` system user.
//!
//! Everything here blocks (it runs `initdb` and `pg_ctl`): call it before the async runtime does
//! real work, or from `spawn_blocking`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgConnectOptions;

/// The superuser role `initdb` creates.
const SUPERUSER: &str = "postgres";
/// Socket paths are limited to 107 bytes; `/.s.PGSQL.5432` takes 15 of them.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// Why the local server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LocalServerError {
    /// No `initdb`/`pg_ctl` on PATH nor under `/usr/lib/postgresql/*/bin`.
    #[error(
        "PostgreSQL is not installed: install it (e.g. `apt-get install postgresql`) or set DATABASE_URL to an existing server"
    )]
    NotInstalled,
    /// Running as root, but there is no `postgres` system user to run the server as.
    #[error(
        "running as root needs a `postgres` system user to run PostgreSQL as (or set DATABASE_URL)"
    )]
    NoPostgresUser,
    /// A file-system step failed.
    #[error("{step}: {source}")]
    Io {
        /// What we were doing.
        step: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// `initdb` or `pg_ctl` failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// The command.
        command: String,
        /// Its output or the server log's tail.
        detail: String,
    },
    /// Another process owns the server but it is not running (it is starting or stopping).
    #[error(
        "another process owns the PostgreSQL server in {0} but it is not running; retry in a moment"
    )]
    OwnedElsewhere(PathBuf),
    /// The data folder path cannot be used (e.g. contains a quote).
    #[error("unusable data folder {0}: it must not contain quotes")]
    BadPath(PathBuf),
}

fn io(step: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalServerError {
    let step = step.into();
    move |source| LocalServerError::Io { step, source }
}

/// The user the server processes run as: `None` = ourselves.
#[derive(Clone, Copy, Debug)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// Takes the owner's lock of the server in `data_dir`: `None` when another process holds it.
fn owner_lock(data_dir: &Path) -> Result<Option<fs::File>, LocalServerError> {
    let mut name = data_dir.as_os_str().to_owned();
    name.push(".owner.lock");
    let path = PathBuf::from(name);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("opening {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(error)) => {
            Err(io(format!("locking {}", path.display()))(error))
        }
    }
}

/// A running local server.
#[derive(Debug)]
pub struct LocalServer {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<RunAs>,
    /// This process owns the server: it started it, or took over one a crashed run left behind;
    /// it stops it in [`LocalServer::stop`].
    started_here: bool,
    /// The owner's lock, held as long as this value lives (see [`LocalServer::start`]).
    _owner_lock: Option<fs::File>,
}

/// Settings for a throwaway test server: durability off, many connections.
const EPHEMERAL_SETTINGS: &[&str] = &[
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=300",
    "shared_buffers=64MB",
];

impl LocalServer {
    /// Starts (creating it on first use) the server whose data lives in `data_dir`, or reuses one
    /// already running there.
    ///
    /// One process at a time owns a server, through an exclusive lock on `<data_dir>.owner.lock`
    /// held while its [`LocalServer`] lives: the owner stops the server on exit. A process that
    /// finds the lock held (a command run beside `serve`) shares the server and leaves it running;
    /// one that finds the server running with the lock free takes it over — it was left by a run
    /// that crashed — and stops it on exit, so no server is ever orphaned.
    ///
    /// # Errors
    /// [`LocalServerError::NotInstalled`] when PostgreSQL is missing; the others on failures.
    pub fn start(data_dir: &Path, bin_dir: Option<&Path>) -> Result<LocalServer, LocalServerError> {
        Self::start_with(data_dir, bin_dir, &[])
    }

    /// Starts a throwaway server in a new temporary folder. A watchdog process stops it and removes
    /// the folder once the current process has exited.
    ///
    /// # Errors
    /// As [`LocalServer::start`].
    pub fn start_ephemeral() -> Result<LocalServer, LocalServerError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let root = std::env::temp_dir().join(format!("hc3-pg-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&root).map_err(io(format!("creating {}", root.display())))?;
        let run_as = run_as()?;
        if let Some(user) = run_as {
            std::os::unix::fs::chown(&root, Some(user.uid), Some(user.gid))
                .map_err(io(format!("handing {} to postgres", root.display())))?;
        }
        let server = Self::start_with(&root.join("pg"), None, EPHEMERAL_SETTINGS)?;
        server.spawn_watchdog(&root)?;
        Ok(server)
    }

    fn start_with(
        data_dir: &Path,
        bin_dir: Option<&Path>,
        settings: &[&str],
    ) -> Result<LocalServer, LocalServerError> {
        let bin_dir = match bin_dir {
            Some(dir) if has_server_tools(dir) => dir.to_path_buf(),
            Some(_) => return Err(LocalServerError::NotInstalled),
            None => find_bin_dir(std::env::var_os("PATH"), Path::new("/usr/lib/postgresql"))
                .ok_or(LocalServerError::NotInstalled)?,
        };
        let run_as = run_as()?;
        fs::create_dir_all(data_dir).map_err(io(format!("creating {}", data_dir.display())))?;
        let data_dir =
            fs::canonicalize(data_dir).map_err(io(format!("resolving {}", data_dir.display())))?;
        if data_dir.to_string_lossy().contains(['\'', '"']) {
            return Err(LocalServerError::BadPath(data_dir));
        }
        if let Some(user) = run_as {
            make_reachable(&data_dir, user)?;
            std::os::unix::fs::chown(&data_dir, Some(user.uid), Some(user.gid))
                .map_err(io(format!("handing {} to postgres", data_dir.display())))?;
        }
        fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o700))
            .map_err(io(format!("restricting {}", data_dir.display())))?;
        let socket_dir = socket_dir_for(&data_dir, run_as)?;
        let owner_lock = owner_lock(&data_dir)?;
        let mut server = LocalServer {
            bin_dir,
            data_dir,
            socket_dir,
            run_as,
            started_here: false,
            _owner_lock: owner_lock,
        };
        if !server.data_dir.join("PG_VERSION").exists() {
            server.initdb()?;
        }
        let owner = server._owner_lock.is_some();
        match (server.is_running(), owner) {
            (true, false) => {
                tracing::info!(data_dir = %server.data_dir.display(), "sharing the PostgreSQL server of the process that runs it");
            }
            (true, true) => {
                server.started_here = true;
                tracing::warn!(data_dir = %server.data_dir.display(), "taking over the PostgreSQL server an earlier run left running; it stops when this process exits");
            }
            (false, false) => return Err(LocalServerError::OwnedElsewhere(server.data_dir)),
            (false, true) => {
                server.pg_ctl_start(settings)?;
                server.started_here = true;
                tracing::info!(data_dir = %server.data_dir.display(), "started a private PostgreSQL server");
            }
        }
        Ok(server)
    }

    /// Connection options for a database on this server (unix socket, superuser, trust auth).
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(SUPERUSER)
            .database(database)
    }

    /// The folder holding the socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Stops the server if this process owns it (a server shared with its owner keeps running).
    ///
    /// # Errors
    /// When `pg_ctl stop` fails.
    pub fn stop(&self) -> Result<(), LocalServerError> {
        if !self.started_here {
            return Ok(());
        }
        let output = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .output()
            .map_err(io("running pg_ctl stop"))?;
        check("pg_ctl stop", &output, None)?;
        tracing::info!("stopped the private PostgreSQL server");
        Ok(())
    }

    fn initdb(&self) -> Result<(), LocalServerError> {
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .map_err(io("running initdb"))?;
        check("initdb", &output, None)
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("status")
            .output()
            .is_ok_and(|output| output.status.success())
    }

    fn pg_ctl_start(&self, settings: &[&str]) -> Result<(), LocalServerError> {
        let mut options = format!(
            "-k '{}' -c listen_addresses='' -c unix_socket_permissions=0700",
            self.socket_dir.display()
        );
        for setting in settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let log = self.data_dir.join("server.log");
        let output = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output()
            .map_err(io("running pg_ctl start"))?;
        check("pg_ctl start", &output, Some(&log))
    }

    /// Stops the server and removes `root` once this process is gone. The watchdog runs as the
    /// server's user in its own process group, so it outlives the test harness and Ctrl-C.
    fn spawn_watchdog(&self, root: &Path) -> Result<(), LocalServerError> {
        let script = r#"while [ -e "/proc/$1" ]; do sleep 1; done; "$2" -D "$3" -m immediate stop >/dev/null 2>&1; rm -rf "$4""#;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(script)
            .arg("hc3-pg-watchdog")
            .arg(std::process::id().to_string())
            .arg(self.bin_dir.join("pg_ctl"))
            .arg(&self.data_dir)
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(user) = self.run_as {
            command.uid(user.uid).gid(user.gid);
        }
        command
            .spawn()
            .map_err(io("starting the cleanup watchdog"))?;
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        command.stdin(Stdio::null()).process_group(0);
        if let Some(user) = self.run_as {
            command.uid(user.uid).gid(user.gid).current_dir("/");
        }
        command
    }
}

fn check(command: &str, output: &Output, log: Option<&Path>) -> Result<(), LocalServerError> {
    if output.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if detail.is_empty() {
        detail = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    }
    if let Some(tail) = log.and_then(|log| fs::read_to_string(log).ok()) {
        let lines: Vec<&str> = tail.lines().collect();
        let start = lines.len().saturating_sub(10);
        detail.push_str("\nserver log:\n");
        detail.push_str(&lines[start..].join("\n"));
    }
    Err(LocalServerError::Command {
        command: command.to_owned(),
        detail,
    })
}

/// True when `dir` holds the server tools we run.
fn has_server_tools(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// `initdb` on `path`, else the newest `<lib_root>/<version>/bin` (Debian keeps the server tools
/// under `/usr/lib/postgresql/<version>/bin`, off the PATH).
fn find_bin_dir(path: Option<std::ffi::OsString>, lib_root: &Path) -> Option<PathBuf> {
    let on_path =
        path.and_then(|paths| std::env::split_paths(&paths).find(|dir| has_server_tools(dir)));
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(lib_root)
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
                let bin = entry.path().join("bin");
                has_server_tools(&bin).then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

/// When running as root, the `postgres` system user; otherwise ourselves.
fn run_as() -> Result<Option<RunAs>, LocalServerError> {
    let me = fs::metadata("/proc/self").map_err(io("reading our own user id"))?;
    if me.uid() != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").map_err(io("reading /etc/passwd"))?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            match fields.as_slice() {
                [name, _, uid, gid, ..] if *name == "postgres" => Some(RunAs {
                    uid: uid.parse().ok()?,
                    gid: gid.parse().ok()?,
                }),
                _ => None,
            }
        })
        .map(Some)
        .ok_or(LocalServerError::NoPostgresUser)
}

/// The `postgres` user must be able to walk down to the data folder. Folders on the way that deny
/// it (a private home or a `mktemp -d` folder) get the traverse bit for others — not read — and we
/// say so in the log.
fn make_reachable(data_dir: &Path, user: RunAs) -> Result<(), LocalServerError> {
    for ancestor in data_dir.ancestors().skip(1) {
        let metadata =
            fs::metadata(ancestor).map_err(io(format!("inspecting {}", ancestor.display())))?;
        let mode = metadata.permissions().mode();
        let traversable = mode & 0o001 != 0
            || (metadata.uid() == user.uid && mode & 0o100 != 0)
            || (metadata.gid() == user.gid && mode & 0o010 != 0);
        if !traversable {
            fs::set_permissions(ancestor, fs::Permissions::from_mode(mode | 0o001)).map_err(io(
                format!("letting postgres traverse {}", ancestor.display()),
            ))?;
            tracing::warn!(folder = %ancestor.display(), "added the traverse (o+x) permission so the postgres user can reach the data folder");
        }
    }
    Ok(())
}

/// The data folder itself when its path is short enough for a socket, else a private folder in
/// the temporary directory.
fn socket_dir_for(data_dir: &Path, run_as: Option<RunAs>) -> Result<PathBuf, LocalServerError> {
    if data_dir.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        return Ok(data_dir.to_path_buf());
    }
    let digest = data_dir
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let dir = std::env::temp_dir().join(format!("hc3-pg-socket-{digest:016x}"));
    fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(&dir, Some(user.uid), Some(user.gid))
            .map_err(io(format!("handing {} to postgres", dir.display())))?;
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(io(format!("restricting {}", dir.display())))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_install(root: &Path, version: &str) -> PathBuf {
        let bin = root.join(version).join("bin");
        fs::create_dir_all(&bin).unwrap();
        for tool in ["initdb", "pg_ctl"] {
            fs::write(bin.join(tool), "").unwrap();
        }
        bin
    }

    #[test]
    fn finds_the_newest_installed_version_when_not_on_path() {
        let root = std::env::temp_dir().join(format!("hc3-find-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        assert_eq!(find_bin_dir(None, &root), None, "nothing installed");
        fake_install(&root, "13");
        let newest = fake_install(&root, "15");
        fs::create_dir_all(root.join("notes")).unwrap();
        assert_eq!(find_bin_dir(None, &root), Some(newest));
        let on_path = fake_install(&root, "custom");
        assert_eq!(
            find_bin_dir(Some(on_path.clone().into_os_string()), &root),
            Some(on_path)
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_installation_is_one_clear_line() {
        let message = LocalServerError::NotInstalled.to_string();
        assert!(
            message.contains("PostgreSQL is not installed") && message.contains("DATABASE_URL")
        );
        assert!(!message.contains('\n'));
    }

    #[test]
    fn long_data_paths_get_a_short_socket_folder() {
        let short = Path::new("/srv/data/pg");
        assert_eq!(socket_dir_for(short, None).unwrap(), short);
        let long = PathBuf::from(format!("/tmp/{}/pg", "x".repeat(120)));
        let socket = socket_dir_for(&long, None).unwrap();
        assert!(
            socket.as_os_str().len() <= MAX_SOCKET_DIR_LEN,
            "{}",
            socket.display()
        );
        assert_eq!(
            socket,
            socket_dir_for(&long, None).unwrap(),
            "stable per data folder"
        );
    }
}
