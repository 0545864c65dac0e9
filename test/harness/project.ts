/** The project (Pulumi.yaml) and stack configuration (Pulumi.<stack>.yaml plus command-line values). */
import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";
import { PassphraseCrypter } from "../pulumi/checkpoint";

// js-yaml ships with @pulumi/pulumi (one of its dependencies); resolve it through that package so the harness adds
// no dependency of its own.
export const yaml = createRequire(require.resolve("@pulumi/pulumi/package.json"))("js-yaml") as {
  load(text: string): unknown;
  dump(value: unknown): string;
};

export interface Project {
  name: string;
  dir: string;
  /** The program to run, relative to dir ("." unless Pulumi.yaml says `main:`). */
  main: string;
  /** False only when Pulumi.yaml sets runtime option `typescript: false`. */
  typescript: boolean;
}

export interface StackConfig {
  /** Namespaced key → value (strings, as Pulumi passes them). */
  values: Record<string, string>;
  /** Namespaced keys whose values are secret. */
  secretKeys: string[];
  /** The stack's passphrase salt from Pulumi.<stack>.yaml (`encryptionsalt`), if it has one. */
  encryptionSalt?: string;
}

export function loadYaml(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  const doc = yaml.load(fs.readFileSync(file, "utf8"));
  return doc && typeof doc === "object" ? (doc as Record<string, unknown>) : {};
}

export function readProject(dir: string): Project {
  const file = path.join(dir, "Pulumi.yaml");
  const doc = loadYaml(file);
  if (!doc) throw new Error(`no Pulumi.yaml in ${dir}`);
  const name = doc.name;
  if (typeof name !== "string" || !name) throw new Error(`${file}: missing 'name'`);
  const runtime = doc.runtime as unknown;
  const runtimeName = typeof runtime === "string" ? runtime : (runtime as { name?: string } | undefined)?.name;
  if (runtimeName !== "nodejs") throw new Error(`${file}: runtime must be nodejs (found ${JSON.stringify(runtimeName)})`);
  const options = (typeof runtime === "object" && runtime ? (runtime as { options?: Record<string, unknown> }).options : undefined) ?? {};
  return {
    name,
    dir,
    main: typeof doc.main === "string" && doc.main ? doc.main : ".",
    typescript: options.typescript !== false,
  };
}

/** "key" → "project:key"; "pkg:config:key" (the old spelling, which the CLI still reads) → "pkg:key". */
export function namespacedKey(key: string, project: string): string {
  const parts = key.split(":");
  if (parts.length === 1) return `${project}:${key}`;
  return parts.length === 3 && parts[1] === "config" ? `${parts[0]}:${parts[2]}` : key;
}

function configString(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function readStackConfig(
  project: Project,
  stack: string,
  overrides: { config?: Record<string, string>; secrets?: Record<string, string> },
): StackConfig {
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const doc = loadYaml(path.join(project.dir, `Pulumi.${stack}.yaml`));
  const config = (doc?.config ?? {}) as Record<string, unknown>;
  const encryptionSalt = typeof doc?.encryptionsalt === "string" ? doc.encryptionsalt : undefined;
  let crypter: PassphraseCrypter | undefined;
  for (const [rawKey, value] of Object.entries(config)) {
    const key = namespacedKey(rawKey, project.name);
    const secure = (value as { secure?: unknown } | null)?.secure;
    if (typeof secure !== "string") values[key] = configString(value);
    else if (!encryptionSalt) throw new Error(`Pulumi.${stack}.yaml: ${key} is encrypted, and the file has no encryptionsalt`);
    else {
      crypter ??= PassphraseCrypter.open(encryptionSalt);
      values[key] = crypter.decryptText(secure);
      secretKeys.add(key);
    }
  }
  for (const [rawKey, value] of Object.entries(overrides.config ?? {})) {
    const key = namespacedKey(rawKey, project.name);
    values[key] = value;
    secretKeys.delete(key);
  }
  for (const [rawKey, value] of Object.entries(overrides.secrets ?? {})) {
    const key = namespacedKey(rawKey, project.name);
    values[key] = value;
    secretKeys.add(key);
  }
  return { values, secretKeys: [...secretKeys].sort(), encryptionSalt };
}
