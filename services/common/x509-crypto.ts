// The one place that tells @peculiar/x509 which WebCrypto to use: Node's own (globalThis.crypto,
// Node 20+). Import it for its effect before using x509 to make or check certificates.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);
