/**
 * Pulumi's state as a file backend stores it (`<backend>/.pulumi/stacks/<project>/<stack>.json`), and its passphrase
 * secrets: what tests read after a run of either engine, and what the engine harness writes.
 *
 * A secret value is stored as `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
 * "ciphertext": "v1:<nonce>:<AES-256-GCM of the value's JSON>" }`, under a key derived from PULUMI_CONFIG_PASSPHRASE
 * and the stack's salt with PBKDF2-SHA256 (1,000,000 rounds), exactly as the CLI's passphrase secrets manager does
 * (sdk/go/common/resource/config/crypt.go), so either side opens what the other wrote.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The passphrase tests and the demo use unless PULUMI_CONFIG_PASSPHRASE says otherwise. */
export const DEFAULT_PASSPHRASE = "pulumi-wechat-test-passphrase";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type PropertyMap = { [key: string]: Json };

export function isSecret(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
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

/** A stack's state: its resources (stack, providers and custom resources) and the stack's outputs. */
export interface StackState {
  resources: ResourceState[];
  outputs: PropertyMap;
  /** The passphrase manager's state (`v1:<salt>:<the word "pulumi" encrypted>`), when the stack has one. */
  salt?: string;
}

/** The checkpoint file of a stack in a file backend. */
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

/** The stack's state as stored (secrets still encrypted), or undefined when the stack has none yet. */
export function readCheckpoint(file: string): StackState | undefined {
  if (!fs.existsSync(file)) return undefined;
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as CheckpointJson;
  if (typeof json.checkpoint !== "object") throw new Error(`${file} is not a Pulumi checkpoint`);
  // The file leaves out empty inputs and outputs; the reader's view always has both.
  const resources = (json.checkpoint.latest?.resources ?? []).map((resource) => ({
    ...resource,
    inputs: resource.inputs ?? {},
    outputs: resource.outputs ?? {},
  }));
  const stack = resources.find((resource) => resource.type === "pulumi:pulumi:Stack");
  return { resources, outputs: stack?.outputs ?? {}, salt: json.checkpoint.latest?.secrets_providers?.state?.salt };
}

/** Pulumi's passphrase crypter for one salt. */
export class PassphraseCrypter {
  private readonly key: Buffer;

  private constructor(
    readonly salt: string,
    passphrase: string,
  ) {
    const [, encodedSalt] = salt.split(":");
    this.key = crypto.pbkdf2Sync(passphrase, Buffer.from(encodedSalt, "base64"), 1_000_000, 32, "sha256");
  }

  /** A crypter for the stack's salt, after checking the passphrase against the word the salt carries. */
  static open(salt: string, passphrase = currentPassphrase()): PassphraseCrypter {
    const crypter = new PassphraseCrypter(salt, passphrase);
    const check = salt.split(":").slice(2).join(":");
    let word: string | undefined;
    try {
      word = crypter.decryptText(check);
    } catch {
      word = undefined;
    }
    if (word !== "pulumi") throw new Error("incorrect passphrase: set PULUMI_CONFIG_PASSPHRASE to the one the stack was created with");
    return crypter;
  }

  /** A new salt (8 random bytes, as the CLI makes them) and its crypter. */
  static create(passphrase = currentPassphrase()): PassphraseCrypter {
    const encodedSalt = crypto.randomBytes(8).toString("base64");
    const unchecked = new PassphraseCrypter(`v1:${encodedSalt}:`, passphrase);
    return new PassphraseCrypter(`v1:${encodedSalt}:${unchecked.encryptText("pulumi")}`, passphrase);
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

  /** Plain form to stored form: every `{sig, value}` becomes `{sig, ciphertext}`. */
  seal(value: Json): Json {
    return mapSecrets(value, (secret) =>
      typeof secret.ciphertext === "string"
        ? secret
        : { [SECRET_SIG_KEY]: SECRET_SIG, ciphertext: this.encryptText(JSON.stringify(unwrapSecrets(secret.value ?? null))) },
    );
  }
}

function currentPassphrase(): string {
  return process.env.PULUMI_CONFIG_PASSPHRASE || DEFAULT_PASSPHRASE;
}

function mapSecrets(value: Json, onSecret: (secret: { [key: string]: Json }) => Json): Json {
  if (isSecret(value)) return onSecret(value);
  if (Array.isArray(value)) return value.map((item) => mapSecrets(item, onSecret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapSecrets(item as Json, onSecret)]));
  }
  return value;
}

/** A secret inside a secret is stored as plain inside the outer ciphertext, as Pulumi does. */
function unwrapSecrets(value: Json): Json {
  return mapSecrets(value, (secret) => unwrapSecrets(secret.value ?? null));
}

/** The stack's state with every secret opened (the passphrase must be the run's). */
export function decryptState(state: StackState): StackState {
  if (!state.salt) return state;
  const crypter = PassphraseCrypter.open(state.salt);
  return {
    ...state,
    resources: state.resources.map((resource) => ({
      ...resource,
      inputs: crypter.open(resource.inputs) as PropertyMap,
      outputs: crypter.open(resource.outputs) as PropertyMap,
    })),
    outputs: crypter.open(state.outputs) as PropertyMap,
  };
}
