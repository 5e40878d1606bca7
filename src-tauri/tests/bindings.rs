//! The UI's IPC types are generated from the Rust types; this fails while the committed file
//! is stale (and rewrites it with `UPDATE_BINDINGS=1`).

#[test]
fn typescript_bindings_are_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/ipc/bindings.ts");
    let fresh = linedesk_app::bindings::typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p linedesk --test bindings` and commit it",
        path.display()
    );
}
