//! The `nocbox` command line: parse arguments, load config, start the runtime, map exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "nocbox",
    version,
    about = "Watches network devices: syslog in, Datadog/stdout out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (built-in defaults without --config: syslog UDP/TCP 5514, API 8080, stdout).
    Run {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Check a config file; print every error with file, line and column; exit 1 on any error.
    Validate {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Exit 0 when the running service is healthy (for Docker/ECS health checks).
    Health {
        #[arg(long, default_value = nocbox::api::DEFAULT_URL)]
        url: String,
    },
    /// Print per-input and per-output state, counts, last success and last error.
    Status {
        #[arg(long, default_value = nocbox::api::DEFAULT_URL)]
        url: String,
    },
    /// Check device profiles, or show which profile a sysObjectID selects.
    Profiles {
        #[command(subcommand)]
        command: ProfilesCommand,
    },
    /// SNMP GET or walk, net-snmp style: `nocbox snmp walk -v2c -c public 10.0.0.1 1.3.6.1.2.1.2`.
    Snmp {
        #[command(subcommand)]
        command: Box<nocbox::poller::cli::SnmpCommand>,
    },
    /// Print the version.
    Version,
}

#[derive(Subcommand)]
enum ProfilesCommand {
    /// Validate the built-in profiles and every *.yaml in the given directories; print every
    /// error with file, line and column; exit 1 on any error.
    Check {
        /// A directory of user profiles (repeatable); they beat built-ins of the same name.
        #[arg(long = "profiles", value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// Print the profile a sysObjectID selects and the pattern that matched; with --snmprec,
    /// also evaluate it against that recording and print the samples.
    Match {
        /// The device's sysObjectID, e.g. 1.3.6.1.4.1.9.1.617 (default: the recording's).
        sys_object_id: Option<String>,
        /// An snmpsim recording (`OID|tag|value` lines) to evaluate the profile against.
        #[arg(long, value_name = "FILE")]
        snmprec: Option<PathBuf>,
        /// A directory of user profiles (repeatable).
        #[arg(long = "profiles", value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
}

/// mimalloc instead of glibc malloc: records are allocated on the receiving thread and freed on
/// an output's thread, a pattern glibc's per-thread arenas handle poorly (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("nocbox {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Validate { config } => match nocbox::config::load(&config) {
            Ok(c) => {
                nocbox::tls::install_provider();
                let problems = nocbox::app::preflight(&c);
                if problems.is_empty() {
                    println!("{}: ok", config.display());
                    return ExitCode::SUCCESS;
                }
                for p in &problems {
                    eprintln!("{}: {p}", config.display());
                }
                eprintln!("{} error(s)", problems.len());
                ExitCode::from(1)
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} error(s)", errors.len());
                ExitCode::from(1)
            }
        },
        Command::Profiles { command } => ExitCode::from(match command {
            ProfilesCommand::Check { dirs } => nocbox::profiles::cli::check(&dirs),
            ProfilesCommand::Match {
                sys_object_id,
                snmprec,
                dirs,
            } => {
                nocbox::profiles::cli::matches(sys_object_id.as_deref(), snmprec.as_deref(), &dirs)
            }
        }),
        Command::Run { config } => run(config),
        Command::Health { url } => block_on(nocbox::api::client::health(&url)),
        Command::Status { url } => block_on(nocbox::api::client::status(&url)),
        Command::Snmp { command } => snmp(*command),
    }
}

fn block_on(f: impl std::future::Future<Output = anyhow::Result<bool>>) -> ExitCode {
    nocbox::tls::install_provider();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(f) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(1)
        }
    }
}

fn snmp(command: nocbox::poller::cli::SnmpCommand) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => ExitCode::from(rt.block_on(nocbox::poller::cli::run(command))),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(config: Option<PathBuf>) -> ExitCode {
    nocbox::telemetry::logging::init();
    nocbox::tls::install_provider();
    let cfg = match &config {
        Some(path) => match nocbox::config::load(path) {
            Ok(c) => nocbox::app::Settings::from_file(c),
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} error(s); not starting", errors.len());
                return ExitCode::from(1);
            }
        },
        None => nocbox::app::Settings::defaults(),
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = rt.block_on(nocbox::app::run(cfg));
    // A write stuck on a blocked stdout must not keep the process from exiting.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("nocbox: {e:#}");
            ExitCode::from(1)
        }
    }
}
