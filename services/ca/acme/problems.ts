// ACME problem documents (RFC 8555 §6.7, RFC 7807): application/problem+json with an
// urn:ietf:params:acme:error:* type, sent with the HTTP status that fits.

export type ProblemType =
  | 'accountDoesNotExist'
  | 'badCSR'
  | 'badNonce'
  | 'badPublicKey'
  | 'badSignatureAlgorithm'
  | 'connection'
  | 'dns'
  | 'incorrectResponse'
  | 'malformed'
  | 'orderNotReady'
  | 'rejectedIdentifier'
  | 'serverInternal'
  | 'unauthorized'
  | 'unsupportedIdentifier';

export interface Problem {
  type: string;
  detail: string;
  status: number;
}

export class AcmeProblem extends Error {
  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly status = 400,
  ) {
    super(detail);
  }

  toJSON(): Problem {
    return { type: `urn:ietf:params:acme:error:${this.type}`, detail: this.detail, status: this.status };
  }
}
