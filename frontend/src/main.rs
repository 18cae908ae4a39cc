//! Renders the playground. Everything else lives in the library, where tests can reach it.

#[cfg(target_arch = "wasm32")]
fn main() {
    frontend::in_page_broker::install();
    frontend::early_sockets::offer_all();
    yew::Renderer::<frontend::components::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The playground runs in the browser: use ./scripts/play (trunk serve).");
}
