//! `scripts/scale`'s program: sizes from SCALE_* (see `roster_tests::scale::Sizes`), the
//! emulator from AWS_ENDPOINT_URL (loopback only). Prints markdown; exits 1 if a check fails.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let sizes = match roster_tests::scale::Sizes::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match roster_tests::scale::run(&sizes).await {
        Ok(report) => {
            println!("{}", report.markdown);
            if report.failures.is_empty() {
                std::process::ExitCode::SUCCESS
            } else {
                eprintln!("scale: {} check(s) failed:", report.failures.len());
                for f in &report.failures {
                    eprintln!("  - {f}");
                }
                std::process::ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("scale failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
