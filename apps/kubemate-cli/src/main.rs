//! `kubemate`: parses the command line, runs it, and turns a failure into one line on stderr
//! (`error: <code>: <message>`) and a non-zero exit code.

use std::{
    io::{IsTerminal, Write},
    process::ExitCode,
};

use clap::{Parser, error::ErrorKind};
use kubemate_cli::{Cli, Io, error};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
                }
                _ => {
                    let code = error::Code::InvalidArgument;
                    eprintln!("error: {code}: {}", error::clap_message(&e));
                    ExitCode::from(error::exit_code(code))
                }
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let code = error::Code::InternalError;
            eprintln!("error: {code}: cannot start the runtime: {e}");
            return ExitCode::from(error::exit_code(code));
        }
    };
    let stdin_is_terminal = std::io::stdin().is_terminal();
    let mut stdout = std::io::stdout();
    let mut stdin = std::io::stdin();
    let mut io = Io {
        out: &mut stdout,
        stdin: &mut stdin,
        stdin_is_terminal,
    };
    let result = runtime.block_on(kubemate_cli::run(cli, &mut io));
    let _ = stdout.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
