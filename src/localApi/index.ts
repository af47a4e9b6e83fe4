// The local HTTP + WebSocket API's entrance for its hosts (the VS Code extension and `model-availability serve`).
export { LocalApiServer } from './localApiServer';
export type { LocalApiServerOptions } from './localApiServer';
export { portOwner } from './portOwner';
export { loadOrCreateToken, TOKEN_ENV } from './tokenFile';
