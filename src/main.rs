use std::process::ExitCode;

use clap::Parser;
use elasticache_local::config::AccessLog;
use elasticache_local::logging::{self, BatchedStderr, LineTime};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let config = elasticache_local::config::Config::parse();
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    logging::set_plain_lines(!colours);
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if let Some(directive) = config.access_log.directive() {
        filter = filter.add_directive(directive.parse().expect("a valid directive"));
    }
    logging::set_access_at_debug(config.access_log == AccessLog::Debug);
    tracing_subscriber::fmt()
        .with_writer(BatchedStderr)
        .with_timer(LineTime)
        .with_ansi(colours)
        .with_env_filter(filter)
        .init();
    // What #[tokio::main] builds, plus the hooks that write each worker's batched log lines.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(logging::on_worker_park)
        .on_thread_stop(logging::on_worker_stop)
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(elasticache_local::run(config)),
        Err(error) => Err(format!("cannot start the async runtime: {error}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("elasticache-local: {message}");
            ExitCode::FAILURE
        }
    }
}
