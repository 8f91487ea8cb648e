/** Typed errors of the gate, so callers (CLI, retraining, HTTP) can tell a bad file from a bad dataset. */

/** An error that callers tell apart by its code; named after its class (the gate is the bottom layer, so the store can use it too). */
export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type GateFileErrorCode = 'gate_missing' | 'gate_unreadable' | 'gate_corrupt' | 'gate_incompatible';

/** A gate file that is missing, not JSON, damaged or of another format version; the message names the file. */
export class GateFileError extends Error {
  constructor(
    readonly code: GateFileErrorCode,
    readonly file: string,
    detail: string,
  ) {
    super(`gate file ${file}: ${detail}`);
    this.name = 'GateFileError';
  }
}

export type DatasetErrorCode = 'dataset_missing' | 'dataset_invalid';

/** A labelled CSV that cannot be used; `line` is the 1-based line of the file when known. */
export class DatasetError extends Error {
  constructor(
    readonly code: DatasetErrorCode,
    readonly file: string,
    readonly line: number | null,
    detail: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${detail}`);
    this.name = 'DatasetError';
  }
}
