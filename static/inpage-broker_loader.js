// The in-page broker's worker (docs/decisions/0016): its glue initialised with one object.
importScripts('./inpage-broker.js');
// A module that does not load (a static copy missing inpage-broker_bg.wasm, a 404) rejects
// this promise, which no worker error event reports: the page is told, so it says why instead
// of waiting for a handshake that never comes (a newcomer's break-test, 34-I F2).
wasm_bindgen({ module_or_path: './inpage-broker_bg.wasm' }).catch((error) => {
  postMessage({ failed: `its broker did not load: ${error && error.message ? error.message : error}` });
});
