//! Builds the browser apps into the server binary, so `cargo run` alone
//! produces a server that serves the website widget (`/widget/sdk.js` and the
//! chat window) and the agent console (`/app`).
//!
//! Steps: compile `switchboard-widget` and `switchboard-console` for
//! `wasm32-unknown-unknown` (profile `wasm-release`, in one cargo run with
//! its own target directory so the outer build's lock is not contended),
//! generate their JavaScript bindings with the
//! wasm-bindgen library pinned to the widget's wasm-bindgen version, name the
//! files by content hash (so browsers may cache them forever), compress each
//! with gzip and brotli ahead of time, and write a table of them that
//! `server/src/web/assets.rs` includes. The sizes are printed as build
//! warnings and recorded in BENCHMARKS.md.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// One file the server serves, before compression.
struct Asset {
    route: String,
    content_type: &'static str,
    immutable: bool,
    bytes: Vec<u8>,
}

fn main() {
    let manifest = PathBuf::from(var("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .expect("server/ has a parent")
        .to_path_buf();
    let out = PathBuf::from(var("OUT_DIR"));
    for watched in [
        "widget/src",
        "widget/static",
        "widget/loader",
        "widget/Cargo.toml",
        "agent-console/src",
        "agent-console/static",
        "agent-console/Cargo.toml",
        "browser/src",
        "browser/Cargo.toml",
        "protocol/src",
        "protocol/Cargo.toml",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let wasm_dir = compile_apps(&root);
    let mut assets = vec![Asset {
        route: "/widget/sdk.js".into(),
        content_type: JS,
        immutable: false,
        bytes: read(&root.join("widget/loader/sdk.js")),
    }];
    assets.extend(app_assets(&App {
        root: &root,
        out: &out,
        wasm_dir: &wasm_dir,
        crate_file: "switchboard_widget",
        name: "widget",
        base: "/widget",
        page: ("widget/static/frame.html", "/widget/frame"),
        css: "widget/static/widget.css",
    }));
    assets.extend(app_assets(&App {
        root: &root,
        out: &out,
        wasm_dir: &wasm_dir,
        crate_file: "switchboard_console",
        name: "console",
        base: "/app",
        page: ("agent-console/static/index.html", "/app"),
        css: "agent-console/static/console.css",
    }));
    write_table(&out, &assets);
}

const JS: &str = "text/javascript; charset=utf-8";

/// One browser app: a wasm crate with its page and stylesheet.
struct App<'a> {
    root: &'a Path,
    out: &'a Path,
    wasm_dir: &'a Path,
    /// The crate's `.wasm` file name, without extension.
    crate_file: &'a str,
    name: &'a str,
    /// Routes live under this prefix; hashed files under `{base}/assets/`.
    base: &'a str,
    /// (source file, route) of the HTML page holding `{{css}}` and `{{boot}}`.
    page: (&'a str, &'a str),
    css: &'a str,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("{name} is not set")))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    panic!("building the website widget failed: {message}");
}

/// Compiles both app crates to wasm; returns the folder of the `.wasm` files.
fn compile_apps(root: &Path) -> PathBuf {
    ensure_wasm_target();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| if d.is_absolute() { d } else { root.join(d) })
        .unwrap_or_else(|| root.join("target"))
        .join("wasm");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "-p",
            "switchboard-widget",
            "-p",
            "switchboard-console",
        ])
        .args(["--target", WASM_TARGET])
        .args(["--profile", "wasm-release", "--locked", "--target-dir"])
        .arg(&target_dir);
    // What the outer build set for *this* crate must not leak into the inner
    // one: flags, the target, clippy's wrapper, the jobserver.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(
                key.as_ref(),
                "RUSTFLAGS"
                    | "CARGO_ENCODED_RUSTFLAGS"
                    | "CARGO_BUILD_RUSTFLAGS"
                    | "CARGO_TARGET_DIR"
                    | "CARGO_BUILD_TARGET"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "CARGO_MAKEFLAGS"
                    | "MAKEFLAGS"
                    | "MFLAGS"
                    | "OUT_DIR"
                    | "TARGET"
                    | "HOST"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_CRATE_NAME"
            )
        {
            cmd.env_remove(key.as_ref());
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| fail(&format!("could not run cargo for the browser apps: {e}")));
    if !status.success() {
        fail("compiling the widget and console for wasm32 failed; see the errors above");
    }
    target_dir.join(WASM_TARGET).join("wasm-release")
}

/// Installs the wasm32 standard library with rustup when it is missing, so a
/// fresh machine needs no step besides `cargo run`.
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if libdir.is_some_and(|dir| dir.is_dir()) {
        return;
    }
    println!("cargo:warning=installing the {WASM_TARGET} target with rustup for the widget");
    let added = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .is_ok_and(|s| s.success());
    if !added {
        fail(&format!(
            "the {WASM_TARGET} target is missing and rustup could not add it: \
             run `rustup target add {WASM_TARGET}`"
        ));
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| fail(&format!("reading {}: {e}", path.display())))
}

fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..6]
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// An app's files under their public routes: its page, a boot module, the
/// bindings, the wasm and the stylesheet.
fn app_assets(app: &App) -> Vec<Asset> {
    let generated = app.out.join(format!("{}-bindgen", app.name));
    let _ = std::fs::remove_dir_all(&generated);
    let wasm_file = app.wasm_dir.join(format!("{}.wasm", app.crate_file));
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm_file)
        .web(true)
        .and_then(|b| b.typescript(false).out_name(app.name).generate(&generated))
        .unwrap_or_else(|e| fail(&format!("wasm-bindgen for {} failed: {e:#}", app.name)));
    let hashed = |stem: &str, ext: &str, bytes: &[u8]| {
        format!("{}/assets/{stem}-{}.{ext}", app.base, short_hash(bytes))
    };
    let wasm = read(&generated.join(format!("{}_bg.wasm", app.name)));
    let glue = read(&generated.join(format!("{}.js", app.name)));
    let css = read(&app.root.join(app.css));
    let wasm_route = hashed(app.name, "wasm", &wasm);
    let glue_route = hashed(app.name, "js", &glue);
    let css_route = hashed(app.name, "css", &css);
    // The bindings would look for `{name}_bg.wasm` next to themselves: point
    // them at the hashed name instead.
    let boot = format!(
        "import init from \"{glue_route}\";\ninit({{ module_or_path: \"{wasm_route}\" }});\n"
    )
    .into_bytes();
    let boot_route = hashed("boot", "js", &boot);
    let (page_file, page_route) = app.page;
    let page = String::from_utf8(read(&app.root.join(page_file)))
        .unwrap_or_else(|_| fail(&format!("{page_file} is not UTF-8")));
    if !page.contains("{{css}}") || !page.contains("{{boot}}") {
        fail(&format!(
            "{page_file} must contain {{{{css}}}} and {{{{boot}}}}"
        ));
    }
    let page = page
        .replace("{{css}}", &css_route)
        .replace("{{boot}}", &boot_route);
    vec![
        Asset {
            route: page_route.into(),
            content_type: "text/html; charset=utf-8",
            immutable: false,
            bytes: page.into_bytes(),
        },
        Asset {
            route: boot_route,
            content_type: JS,
            immutable: true,
            bytes: boot,
        },
        Asset {
            route: glue_route,
            content_type: JS,
            immutable: true,
            bytes: glue,
        },
        Asset {
            route: wasm_route,
            content_type: "application/wasm",
            immutable: true,
            bytes: wasm,
        },
        Asset {
            route: css_route,
            content_type: "text/css; charset=utf-8",
            immutable: true,
            bytes: css,
        },
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli into memory");
    out
}

/// Writes each asset and its compressed forms to `out`, and `assets.rs`: a
/// static table of them for the server to include.
fn write_table(out: &Path, assets: &[Asset]) {
    let dir = out.join("assets");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&format!("creating {dir:?}: {e}")));
    let mut table = String::from("&[\n");
    let mut sizes = Vec::new();
    for (i, asset) in assets.iter().enumerate() {
        let gz = gzip(&asset.bytes);
        let br = brotli(&asset.bytes);
        for (suffix, bytes) in [("raw", &asset.bytes), ("gz", &gz), ("br", &br)] {
            let path = dir.join(format!("{i}.{suffix}"));
            std::fs::write(&path, bytes)
                .unwrap_or_else(|e| fail(&format!("writing {path:?}: {e}")));
        }
        let _ = writeln!(
            table,
            "    Asset {{ route: {route:?}, content_type: {ct:?}, immutable: {im}, etag: {etag:?}, \
             raw: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/assets/{i}.raw\")), \
             gzip: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/assets/{i}.gz\")), \
             brotli: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/assets/{i}.br\")) }},",
            route = asset.route,
            ct = asset.content_type,
            im = asset.immutable,
            etag = format!("\"{}\"", short_hash(&asset.bytes)),
        );
        sizes.push((asset.route.clone(), asset.bytes.len(), gz.len(), br.len()));
    }
    table.push_str("]\n");
    std::fs::write(out.join("assets.rs"), table)
        .unwrap_or_else(|e| fail(&format!("writing assets.rs: {e}")));
    for (route, raw, gz, br) in &sizes {
        println!("cargo:warning=asset {route}: {raw} B, gzip {gz} B, brotli {br} B");
    }
    for name in ["widget", "console"] {
        let mut app = (0, 0, 0);
        for (route, raw, gz, br) in &sizes {
            let file = route.rsplit('/').next().unwrap_or_default();
            let bindings = file.starts_with(&format!("{name}-"))
                && (file.ends_with(".wasm") || file.ends_with(".js"));
            if bindings {
                app = (app.0 + raw, app.1 + gz, app.2 + br);
            }
        }
        println!(
            "cargo:warning={name} wasm + bindings: {} B, gzip {} B, brotli {} B",
            app.0, app.1, app.2
        );
    }
}
