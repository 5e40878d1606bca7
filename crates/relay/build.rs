//! Stamps the git commit into the binary for `--version` (`LINEDESK_COMMIT` wins, for builds
//! from a source tarball; "unknown" when neither is there).

fn main() {
    println!("cargo:rerun-if-env-changed=LINEDESK_COMMIT");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
    let commit = std::env::var("LINEDESK_COMMIT").ok().or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
    });
    println!(
        "cargo:rustc-env=LINEDESK_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
