/**
 * The stack's state in the real CLI's checkpoint format and place (`<backend>/.pulumi/stacks/<project>/<stack>.json`,
 * version 3), so that one reader serves both engines and either could continue the other's stack. In memory, secrets
 * are `{sig, value}`; on disk they are sealed with the stack's passphrase crypter, exactly as the CLI seals them.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PassphraseCrypter, ResourceState, checkpointFile, readCheckpoint } from "../pulumi/checkpoint";
import { PULUMI_VERSION } from "../pulumi/install";
import { Json, PropertyMap, isSecret } from "./values";

export { ResourceState };
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";
/** The default provider the engine records for dynamic resources; its inputs are the whole stack config. */
export const PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";

/** Whether `v` holds a secret (sealed, when `sealed`). */
const holdsSecret = (v: Json, sealed: boolean): boolean =>
  isSecret(v)
    ? !sealed || typeof v.ciphertext === "string"
    : typeof v === "object" && v !== null && Object.values(v).some((e) => holdsSecret(e, sealed));

/** An entry as the file stores it: sealed, and without empty inputs or outputs, as the CLI writes it. */
function entryText(sealed: ResourceState): string {
  const { inputs, outputs, ...rest } = sealed;
  const some = (m: PropertyMap) => (Object.keys(m).length > 0 ? m : undefined);
  return JSON.stringify({ ...rest, inputs: some(inputs), outputs: some(outputs) });
}

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
    const stored = readCheckpoint(file);
    const state = new Checkpoint(file, `organization/${project}/${stack}`, stored?.salt ?? salt);
    state.resources = (stored?.resources ?? []).map((sealed) => {
      const r = { ...sealed, inputs: state.open(sealed.inputs), outputs: state.open(sealed.outputs) };
      // An entry written back unchanged keeps its ciphertexts: a run that changes nothing leaves the file as it was.
      state.texts.set(r, entryText(sealed));
      return r;
    });
    return state;
  }

  /** The passphrase crypter, made when first needed: deriving its key is the costly part of a small run. */
  private get crypter(): PassphraseCrypter {
    this.crypterOf ??= this.salt ? PassphraseCrypter.open(this.salt) : PassphraseCrypter.create();
    this.salt = this.crypterOf.salt;
    return this.crypterOf;
  }

  private open(m: PropertyMap): PropertyMap {
    return holdsSecret(m, true) ? (this.crypter.open(m) as PropertyMap) : m;
  }

  /** Puts `next` where `old` was (appended when there was none), or removes `old` when `next` is undefined. */
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
      const seal = (m: PropertyMap) => (holdsSecret(m, false) ? (this.crypter.seal(m) as PropertyMap) : m);
      text = entryText({ ...r, inputs: seal(r.inputs), outputs: seal(r.outputs) });
      this.texts.set(r, text);
    }
    return text;
  }
}
