/**
 * Pulumi's state as a file backend stores it (`<backend>/.pulumi/stacks/<project>/<stack>.json`, version 3), and its
 * passphrase secrets: what tests read after a run of either engine, and what the engine harness writes, so that either
 * engine could continue the other's stack.
 *
 * A secret value is `{ [SECRET_SIG_KEY]: SECRET_SIG, value }` in memory and `{ [SECRET_SIG_KEY]: SECRET_SIG,
 * ciphertext: "v1:<nonce>:<AES-256-GCM of the value's JSON>" }` on disk, under a key derived from
 * PULUMI_CONFIG_PASSPHRASE and the stack's salt with PBKDF2-SHA256 (1,000,000 rounds), exactly as the CLI's passphrase
 * secrets manager does (sdk/go/common/resource/config/crypt.go), so either side opens what the other wrote.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PULUMI_VERSION } from "./install";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";
/** The default provider the engine records for dynamic resources; its inputs are the whole stack config. */
export const PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";

export function currentPassphrase(): string {
  return process.env.PULUMI_CONFIG_PASSPHRASE || "pulumi-wechat-test-passphrase";
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type PropertyMap = { [key: string]: Json };

export function isSecret(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** `value` with each outermost secret in it replaced by what `onSecret` makes of it. */
export function mapSecrets(value: Json, onSecret: (secret: { [key: string]: Json }) => Json): Json {
  if (isSecret(value)) return onSecret(value);
  if (Array.isArray(value)) return value.map((item) => mapSecrets(item, onSecret));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapSecrets(item as Json, onSecret)]));
}

/** The value without secret markers (what a provider that does not accept secrets is sent, and what is encrypted). */
export function stripSecrets<T extends Json>(value: T): T {
  return mapSecrets(value, (secret) => stripSecrets(secret.value ?? null)) as T;
}

/** One resource as the checkpoint records it (the fields the tests and the harness use). */
export interface ResourceState {
  urn: string;
  type: string;
  id?: string;
  custom: boolean;
  parent?: string;
  provider?: string;
  dependencies?: string[];
  propertyDependencies?: { [key: string]: string[] };
  inputs: PropertyMap;
  outputs: PropertyMap;
  protect?: boolean;
  retainOnDelete?: boolean;
  ignoreChanges?: string[];
  replaceOnChanges?: string[];
  /** The old resource of a replacement, still to be deleted. */
  delete?: boolean;
  /** Deleted before its replacement was created (delete-before-replace), kept until the replacement exists. */
  pendingReplacement?: boolean;
  /** Created but not initialized (a partial failure): the next update finishes it. */
  initErrors?: string[];
}

export interface StackState {
  resources: ResourceState[];
  outputs: PropertyMap;
  /** The passphrase manager's state (`v1:<salt>:<the word "pulumi" encrypted>`), when the stack has one. */
  salt?: string;
}

export function checkpointFile(backendDir: string, project: string, stack: string): string {
  return path.join(backendDir, ".pulumi", "stacks", project, `${stack}.json`);
}

interface CheckpointJson {
  version: number;
  checkpoint: {
    stack: string;
    latest?: { resources?: ResourceState[]; secrets_providers?: { type: string; state?: { salt?: string } } } | null;
  };
}

/** Secrets stay {sig, ciphertext}; with `decrypt` they come back as {sig, value} (needs the run's passphrase). */
export function readState(file: string, opts: { decrypt?: boolean } = {}): StackState | undefined {
  if (!fs.existsSync(file)) return undefined;
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as CheckpointJson;
  if (typeof json.checkpoint !== "object") throw new Error(`${file} is not a Pulumi checkpoint`);
  const salt = json.checkpoint.latest?.secrets_providers?.state?.salt;
  const crypter = opts.decrypt && salt ? PassphraseCrypter.open(salt) : undefined;
  // The file leaves out empty inputs and outputs; the reader's view always has both.
  const open = (m: PropertyMap | undefined) => (crypter ? (crypter.open(m ?? {}) as PropertyMap) : (m ?? {}));
  const resources = (json.checkpoint.latest?.resources ?? []).map((r) => ({ ...r, inputs: open(r.inputs), outputs: open(r.outputs) }));
  return { resources, outputs: resources.find((r) => r.type === ROOT_STACK_TYPE)?.outputs ?? {}, salt };
}

export class PassphraseCrypter {
  private readonly key: Buffer;

  private constructor(
    public salt: string,
    passphrase: string,
  ) {
    const [, encodedSalt] = salt.split(":");
    this.key = crypto.pbkdf2Sync(passphrase, Buffer.from(encodedSalt, "base64"), 1_000_000, 32, "sha256");
  }

  /**
   * A crypter for the stack's salt, after checking the passphrase against the word the salt carries. One per salt and
   * passphrase: deriving the key takes a second, and tests open the same stack's state after every run.
   */
  static open(salt: string, passphrase = currentPassphrase()): PassphraseCrypter {
    const known = opened.get(`${salt}\0${passphrase}`);
    if (known) return known;
    const crypter = new PassphraseCrypter(salt, passphrase);
    try {
      if (crypter.decryptText(salt.split(":").slice(2).join(":")) === "pulumi") {
        opened.set(`${salt}\0${passphrase}`, crypter);
        return crypter;
      }
    } catch {
      // A wrong key fails the cipher's authentication: the same answer as a wrong word.
    }
    throw new Error("incorrect passphrase: set PULUMI_CONFIG_PASSPHRASE to the one the stack was created with");
  }

  /** A new salt (8 random bytes, as the CLI makes them) and its crypter. */
  static create(passphrase = currentPassphrase()): PassphraseCrypter {
    const crypter = new PassphraseCrypter(`v1:${crypto.randomBytes(8).toString("base64")}:`, passphrase);
    crypter.salt += crypter.encryptText("pulumi");
    return crypter;
  }

  encryptText(plaintext: string): string {
    const nonce = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.key, nonce);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `v1:${nonce.toString("base64")}:${body.toString("base64")}`;
  }

  decryptText(ciphertext: string): string {
    const [version, nonce, body] = ciphertext.split(":");
    if (version !== "v1" || !nonce || body === undefined) throw new Error("malformed secret ciphertext");
    const bytes = Buffer.from(body, "base64");
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.key, Buffer.from(nonce, "base64"));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
  }

  /** Stored form to plain form: every `{sig, ciphertext}` becomes `{sig, value}`. */
  open(value: Json): Json {
    return mapSecrets(value, (secret) => ({
      [SECRET_SIG_KEY]: SECRET_SIG,
      value:
        typeof secret.ciphertext === "string" ? this.open(JSON.parse(this.decryptText(secret.ciphertext)) as Json) : (secret.value ?? null),
    }));
  }

  /** Plain form to stored form: every `{sig, value}` becomes `{sig, ciphertext}` (a secret inside it is stored plain). */
  seal(value: Json): Json {
    return mapSecrets(value, (secret) =>
      typeof secret.ciphertext === "string"
        ? secret
        : { [SECRET_SIG_KEY]: SECRET_SIG, ciphertext: this.encryptText(JSON.stringify(stripSecrets(secret.value ?? null))) },
    );
  }
}

const opened = new Map<string, PassphraseCrypter>();

/** An entry as the file stores it: sealed, and without empty inputs or outputs, as the CLI writes it. */
function entryText(sealed: ResourceState): string {
  const { inputs, outputs, ...rest } = sealed;
  const some = (m: PropertyMap) => (Object.keys(m).length > 0 ? m : undefined);
  return JSON.stringify({ ...rest, inputs: some(inputs), outputs: some(outputs) });
}

/** The engine harness's state of a stack: open in memory, and written back sealed as the CLI writes it. */
export class Checkpoint {
  /** In dependency order, as the CLI keeps them: an entry comes after its parent, provider and dependencies. */
  resources: ResourceState[] = [];
  private crypterOf: PassphraseCrypter | undefined;
  /** The stored text of each entry; entries are replaced, never changed, so a write costs what changed. */
  private readonly texts = new WeakMap<ResourceState, string>();

  private constructor(
    readonly file: string,
    private readonly stackName: string,
    private salt: string | undefined,
  ) {}

  /** The stack's checkpoint (empty when there is none; a new stack takes `salt`, else a new one). */
  static load(backendDir: string, project: string, stack: string, salt?: string): Checkpoint {
    const file = checkpointFile(backendDir, project, stack);
    const stored = readState(file);
    const state = new Checkpoint(file, `organization/${project}/${stack}`, stored?.salt ?? salt);
    state.resources = (stored?.resources ?? []).map((sealed) => {
      const open = (m: PropertyMap) => mapSecrets(m, (secret) => state.crypter.open(secret)) as PropertyMap;
      const r = { ...sealed, inputs: open(sealed.inputs), outputs: open(sealed.outputs) };
      // An entry written back unchanged keeps its ciphertexts: a run that changes nothing leaves the file as it was.
      state.texts.set(r, entryText(sealed));
      return r;
    });
    return state;
  }

  /** The passphrase crypter, made when a secret first needs it: deriving its key is the costly part of a small run. */
  private get crypter(): PassphraseCrypter {
    this.crypterOf ??= this.salt ? PassphraseCrypter.open(this.salt) : PassphraseCrypter.create();
    this.salt = this.crypterOf.salt;
    return this.crypterOf;
  }

  replace(old: ResourceState | undefined, next: ResourceState | undefined): void {
    const at = old ? this.resources.indexOf(old) : -1;
    if (at >= 0) this.resources.splice(at, 1, ...(next ? [next] : []));
    else if (next) this.resources.push(next);
  }

  /** Writes the whole checkpoint, atomically (a run killed at any moment leaves the last complete one). */
  write(): void {
    const entries = this.resources.map((r) => this.text(r));
    const head = JSON.stringify({
      manifest: {
        time: new Date().toISOString(),
        magic: crypto.createHash("sha256").update(`v${PULUMI_VERSION}`).digest("hex"),
        version: `v${PULUMI_VERSION}`,
      },
      secrets_providers: { type: "passphrase", state: { salt: this.salt ?? this.crypter.salt } },
    }).slice(0, -1);
    const resources = entries.length > 0 ? `,"resources":[\n${entries.join(",\n")}\n]` : "";
    const text = `{"version":3,"checkpoint":{"stack":${JSON.stringify(this.stackName)},"latest":${head}${resources},"metadata":{}}}}\n`;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  private text(r: ResourceState): string {
    let text = this.texts.get(r);
    if (text === undefined) {
      const seal = (m: PropertyMap) => mapSecrets(m, (secret) => this.crypter.seal(secret)) as PropertyMap;
      text = entryText({ ...r, inputs: seal(r.inputs), outputs: seal(r.outputs) });
      this.texts.set(r, text);
    }
    return text;
  }
}
