/**
 * The admin socket: how the operator CLI hands its writes to the running bot
 * (docs/architecture/admin-socket.md). The bot calls {@link startAdminServer}; the CLI calls
 * {@link callAdminSocket} and falls back to {@link applyAdminRequest} under the lock.
 */
export { type AdminTarget, applyAdminRequest, requestActor } from './apply-request.ts';
export { type AdminCallOptions, type AdminDelivery, callAdminSocket } from './client.ts';
export {
  ADMIN_OPS,
  ADMIN_PROTOCOL_VERSION,
  ADMIN_SOCKET_FILE,
  type AdminOp,
  type AdminRequest,
  type AdminResponse,
  type AdminResult,
  MAX_REQUEST_BYTES,
  adminSocketPath,
  errorFromWire,
  parseAdminRequest,
} from './protocol.ts';
export { type AdminServer, type AdminServerOptions, DEFAULT_IDLE_TIMEOUT_MS, startAdminServer } from './server.ts';
