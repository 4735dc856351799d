//! The `streamlab` binary: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use server::cli::{Cli, Command, LessonsCommand};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Lessons(LessonsCommand::Check { dir })) => {
            match server::check::run(&dir, &mut std::io::stdout(), &mut std::io::stderr()) {
                Ok(true) => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            }
        }
        Some(Command::Serve(args)) => run(server::serve::run(args, server::serve::shutdown_signal())),
        Some(Command::Broker(args)) => run(server::serve::run_broker(args, server::serve::shutdown_signal())),
        None => run(server::serve::run(cli.serve, server::serve::shutdown_signal())),
    }
}

fn run(task: impl std::future::Future<Output = Result<(), server::serve::ServeError>>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
