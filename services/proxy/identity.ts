// The proxy's TLS identity: the lab's shared one (services/common/tls-identity.ts), which web2 uses too.
export { loadTlsIdentity, type TlsIdentity } from '../common/tls-identity.js';
