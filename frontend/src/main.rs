//! Renders the playground. Everything else lives in the library, where tests can reach it.

#[cfg(target_arch = "wasm32")]
fn main() {
    frontend::panic_notice::install();
    frontend::in_page_broker::install();
    frontend::early_sockets::offer_all();
    // The services connect now, not after the first render; the page takes them over. The
    // first render waits (at most 100 ms) for the CONNACKs, so it draws them connected.
    frontend::boot::start();
    frontend::boot::after_first_answers(|| {
        // `EDA_BENCH_NO_VIEWS=1 trunk build --release` (scripts/bench) leaves every view out of
        // the module: what the services, their MQTT clients, the core and the store weigh alone.
        if option_env!("EDA_BENCH_NO_VIEWS").is_none() {
            yew::Renderer::<frontend::components::App>::new().render();
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The playground runs in the browser: use ./scripts/play (trunk serve).");
}
