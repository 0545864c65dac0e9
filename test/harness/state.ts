/**
 * The harness's state file: what Pulumi's checkpoint holds, reduced to what the harness needs.
 *
 *   { "version": 1, "project", "stack",
 *     "secretsProvider": { "type": "passphrase", "salt" },
 *     "resources": [ { "urn", "type", "id", "custom", "parent", "dependencies", "propertyDependencies",
 *                      "inputs", "outputs", "protect"?, "retainOnDelete"?, "delete"?, "initErrors"? } ],
 *     "outputs": { ...stack outputs... } }
 *
 * Inputs keep `__provider` as Pulumi stores it. Secret values are stored the way Pulumi marks them, as
 * `{ "4dabf...": "1b47...", "ciphertext": "..." }`, encrypted with AES-256-GCM under a key derived (scrypt) from
 * PULUMI_CONFIG_PASSPHRASE (default: a fixed test passphrase) and the file's salt, so no secret reaches the file in
 * clear. `delete: true` marks the old half of a create-before-delete replacement that still has to be deleted, as
 * Pulumi does. The file is replaced atomically (temporary file, fsync, rename): a run killed at any moment leaves the
 * last complete state.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Json, PropertyMap, SECRET_SIG, SECRET_SIG_KEY, isSecret } from "./values";

export const DEFAULT_PASSPHRASE = "pulumi-wechat-test-passphrase";

export interface ResourceState {
  urn: string;
  type: string;
  id: string;
  custom: boolean;
  parent: string;
  dependencies: string[];
  propertyDependencies?: { [key: string]: string[] };
  inputs: PropertyMap;
  outputs: PropertyMap;
  protect?: boolean;
  retainOnDelete?: boolean;
  /** The old resource of a create-before-delete replacement, still to be deleted. */
  delete?: boolean;
  /** Created but not initialized (partial failure): the next update finishes it. */
  initErrors?: string[];
}

export interface StateFile {
  version: 1;
  project: string;
  stack: string;
  secretsProvider?: { type: "passphrase"; salt: string };
  resources: ResourceState[];
  outputs: PropertyMap;
}

export function emptyState(project: string, stack: string): StateFile {
  return { version: 1, project, stack, resources: [], outputs: {} };
}

/** The raw file as stored (secrets still encrypted), or undefined when there is none. */
export function readStateFile(file: string): StateFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const state = JSON.parse(text) as StateFile;
  if (state.version !== 1 || !Array.isArray(state.resources)) {
    throw new Error(`${file} is not a harness state file (version 1)`);
  }
  state.outputs = state.outputs ?? {};
  return state;
}

/** Encrypts and decrypts secret values for one state file. */
export class SecretCipher {
  readonly salt: string;
  private readonly key: Buffer;

  constructor(salt?: string, passphrase = process.env.PULUMI_CONFIG_PASSPHRASE || DEFAULT_PASSPHRASE) {
    this.salt = salt ?? crypto.randomBytes(16).toString("base64");
    this.key = crypto.scryptSync(passphrase, Buffer.from(this.salt, "base64"), 32);
  }

  encrypt(value: Json): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
  }

  decrypt(ciphertext: string): Json {
    const [version, iv, tag, body] = ciphertext.split(":");
    if (version !== "v1" || !iv || !tag || body === undefined) throw new Error("malformed secret ciphertext");
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    try {
      const text = Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
      return JSON.parse(text) as Json;
    } catch {
      throw new Error("cannot decrypt a secret in the state file: wrong PULUMI_CONFIG_PASSPHRASE?");
    }
  }

  /** Stored form → in-memory form: `{sig, ciphertext}` becomes `{sig, value}`. */
  open(v: Json): Json {
    if (isSecret(v)) {
      if (typeof v.ciphertext === "string") return { [SECRET_SIG_KEY]: SECRET_SIG, value: this.open(this.decrypt(v.ciphertext as string)) };
      return { [SECRET_SIG_KEY]: SECRET_SIG, value: this.open((v.value ?? null) as Json) };
    }
    if (Array.isArray(v)) return v.map((e) => this.open(e));
    if (v !== null && typeof v === "object") {
      const out: { [key: string]: Json } = {};
      for (const [k, e] of Object.entries(v as { [key: string]: Json })) out[k] = this.open(e);
      return out;
    }
    return v;
  }

  /** In-memory form → stored form. */
  seal(v: Json): Json {
    if (isSecret(v)) return { [SECRET_SIG_KEY]: SECRET_SIG, ciphertext: this.encrypt(stripForSeal((v.value ?? null) as Json)) };
    if (Array.isArray(v)) return v.map((e) => this.seal(e));
    if (v !== null && typeof v === "object") {
      const out: { [key: string]: Json } = {};
      for (const [k, e] of Object.entries(v as { [key: string]: Json })) out[k] = this.seal(e);
      return out;
    }
    return v;
  }
}

/** A secret nested in a secret: the outer one already hides it. */
function stripForSeal(v: Json): Json {
  if (isSecret(v)) return stripForSeal((v.value ?? null) as Json);
  if (Array.isArray(v)) return v.map(stripForSeal);
  if (v !== null && typeof v === "object") {
    const out: { [key: string]: Json } = {};
    for (const [k, e] of Object.entries(v as { [key: string]: Json })) out[k] = stripForSeal(e);
    return out;
  }
  return v;
}

/** Loads a state file with its secrets decrypted, and the cipher to write it back with. */
export function loadState(file: string, project: string, stack: string): { state: StateFile; cipher: SecretCipher } {
  const raw = readStateFile(file);
  const cipher = new SecretCipher(raw?.secretsProvider?.salt);
  if (!raw) return { state: emptyState(project, stack), cipher };
  const state: StateFile = {
    ...raw,
    resources: raw.resources.map((r) => ({
      ...r,
      inputs: cipher.open(r.inputs ?? {}) as PropertyMap,
      outputs: cipher.open(r.outputs ?? {}) as PropertyMap,
    })),
    outputs: cipher.open(raw.outputs ?? {}) as PropertyMap,
  };
  return { state, cipher };
}

/** The stored form of an in-memory state. */
export function sealState(state: StateFile, cipher: SecretCipher): StateFile {
  return {
    version: 1,
    project: state.project,
    stack: state.stack,
    secretsProvider: { type: "passphrase", salt: cipher.salt },
    resources: state.resources.map((r) => ({
      ...r,
      inputs: cipher.seal(r.inputs) as PropertyMap,
      outputs: cipher.seal(r.outputs) as PropertyMap,
    })),
    outputs: cipher.seal(state.outputs) as PropertyMap,
  };
}

/** Replaces `file` with `text` atomically and durably. */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Directories cannot be fsynced on every platform; the rename is still atomic.
  }
}

/**
 * The stored text of a state: one resource per line, so the file stays readable and greppable while a large state
 * is written fast. `cache` keeps the sealed text of resource entries already written (entries are replaced, never
 * mutated, when they change), so a write costs what changed plus one concatenation.
 */
export function serializeState(state: StateFile, cipher: SecretCipher, cache?: WeakMap<ResourceState, string>): string {
  const sealed = sealState({ ...state, resources: [] }, cipher);
  const resources = state.resources.map((r) => {
    let text = cache?.get(r);
    if (text === undefined) {
      text = JSON.stringify({ ...r, inputs: cipher.seal(r.inputs), outputs: cipher.seal(r.outputs) });
      cache?.set(r, text);
    }
    return text;
  });
  const head = JSON.stringify({
    version: sealed.version,
    project: sealed.project,
    stack: sealed.stack,
    secretsProvider: sealed.secretsProvider,
  });
  const body = resources.length > 0 ? `[\n  ${resources.join(",\n  ")}\n]` : "[]";
  return `${head.slice(0, -1)},\n"resources": ${body},\n"outputs": ${JSON.stringify(sealed.outputs)}\n}\n`;
}

/**
 * Writes the state at most every `intervalMs` while steps complete (and never more than a fifth of the time, for
 * very large states), and at once on flush(): a run of a thousand resources writes a few dozen times, not a
 * thousand.
 */
export class StateWriter {
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private lastDuration = 0;
  private dirty = false;
  private readonly cache = new WeakMap<ResourceState, string>();
  writes = 0;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => StateFile,
    private readonly cipher: SecretCipher,
    private readonly intervalMs = 200,
  ) {}

  /** Something changed: write soon. */
  touch(): void {
    this.dirty = true;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + Math.max(this.intervalMs, 4 * this.lastDuration) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, wait);
  }

  /** Write now (if anything changed, or `force`). */
  flush(force = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.dirty || force) this.write();
  }

  private write(): void {
    const started = Date.now();
    this.dirty = false;
    this.writes++;
    writeFileAtomic(this.file, serializeState(this.snapshot(), this.cipher, this.cache));
    this.lastWrite = Date.now();
    this.lastDuration = this.lastWrite - started;
  }
}
