/**
 * CallbackConfig: an account's CloudBase message-push configuration (which cloud function or cloud-hosting
 * container receives WeChat messages), through `tcb/setcallbackconfig` / `tcb/getcallbackconfig`.
 *
 * The API has two sections, `function_config` and `container_config`, and leaves a section it is not sent
 * untouched. So a section the program leaves out is not managed: never sent, never compared, never restored.
 *
 * Reads top to bottom: the input schema, the API calls, then check, diff, create, read, update, delete. This
 * module's exports are the provider object itself (see sdk/).
 */
import { z } from "zod";
import { API, CallbackConfigBody, ContainerSection, FunctionSection, firstProblem } from "./api";
import { mayHaveApplied } from "./client";
import { Context, dynamicProvider } from "./context";
import { WeChatAnswerError } from "./errors";
import {
  CheckResult,
  CreateResult,
  DiffResult,
  PartialFailure,
  ReadResult,
  Same,
  UpdateResult,
  accountFailures,
  authorizerAppId,
  claimFailures,
  checkWith,
  diffProperties,
  expected,
  sameValue,
} from "./resource";
import type { CallbackConfigArgs, CallbackConfigOutputs as PublicOutputs, CallbackSections } from "./types";

const MAX_CALLBACKS = 100;

/** A CloudBase environment id, e.g. `test-env-6gni9ity244a6ea3`. */
const envId = () =>
  z
    .string({ error: expected("the CloudBase environment id, e.g. prod-6gni9ity244a6ea3") })
    .min(1, "must not be empty: give the CloudBase environment id, e.g. prod-6gni9ity244a6ea3")
    .max(64, "is longer than 64 characters: CloudBase environment ids are short, e.g. prod-6gni9ity244a6ea3")
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be a CloudBase environment id: letters, digits, "-" and "_"');

const flag = () => z.boolean({ error: expected("true or false") }).default(true);

/** One routing rule: messages of a type (and event) go to a cloud function. */
const Callback = z
  .object(
    {
      msgType: z
        .string({ error: expected("a WeChat message type in lowercase, e.g. text, image or event") })
        .regex(/^[a-z_]{1,32}$/, "must be a WeChat message type in lowercase, e.g. text, image or event"),
      event: z
        .string({ error: expected("a WeChat event name, e.g. user_enter_tempsession") })
        .max(64, "must be at most 64 characters")
        .regex(/^[A-Za-z0-9_.]*$/, "must be a WeChat event name, e.g. user_enter_tempsession")
        .default(""),
      env: envId(),
      functionName: z
        .string({ error: expected("the cloud function's name") })
        .min(1, "must not be empty: give the cloud function's name")
        .max(60, "must be at most 60 characters (a CloudBase function name)")
        .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "must be a cloud function name: a letter, then letters, digits, - or _"),
      enable: flag(),
    },
    { error: expected("a callback rule: { msgType, event, env, functionName, enable }") },
  )
  .strict()
  .superRefine((callback, context) => {
    if (callback.msgType === "event" && !callback.event) {
      context.addIssue({ code: "custom", path: ["event"], message: 'is required when msgType is "event", e.g. user_enter_tempsession' });
    }
    if (callback.msgType !== "event" && callback.event) {
      context.addIssue({
        code: "custom",
        path: ["event"],
        message: `must be empty for msgType "${callback.msgType}": only event messages name an event`,
      });
    }
  });

/** Cloud-function routing: the `function_config` section. */
const FunctionConfig = z
  .object(
    {
      enable: flag(),
      callbacks: z
        .array(Callback, { error: expected("a list of callback rules") })
        .max(MAX_CALLBACKS, `at most ${MAX_CALLBACKS} callbacks`)
        .default([]),
    },
    { error: expected("an object: { enable, callbacks }") },
  )
  .strict()
  .superRefine((section, context) => {
    const seen = new Map<string, number>();
    section.callbacks.forEach((callback, index) => {
      const key = `${callback.msgType}/${callback.event}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else {
        context.addIssue({
          code: "custom",
          path: ["callbacks", index],
          message: `duplicates callbacks[${first}] (msgType "${callback.msgType}"${callback.event ? `, event "${callback.event}"` : ""}): keep one rule per message type and event`,
        });
      }
    });
  });

/** Cloud-hosting routing: the `container_config` section. */
const ContainerConfig = z
  .object(
    {
      enable: flag(),
      qbaseEnv: envId(),
      qbaseContainerPath: z
        .string({ error: expected('the path messages are posted to, e.g. "/container-echo"') })
        .max(256, "must be at most 256 characters")
        .regex(/^\/[^\s]*$/, 'must start with "/" and contain no spaces, e.g. "/container-echo"'),
      textMode: z.union([z.literal(1), z.literal(2)], { error: expected("1 (JSON) or 2 (XML)") }),
    },
    { error: expected("an object: { enable, qbaseEnv, qbaseContainerPath, textMode }") },
  )
  .strict();

/** The inputs of a CallbackConfig; types.ts gives the same shape without zod, and is checked against it below. */
export const CallbackConfigInputs = z
  .object({
    authorizerAppId,
    functionConfig: z.optional(FunctionConfig),
    containerConfig: z.optional(ContainerConfig),
    deleteBehavior: z
      .enum(["retain", "disable", "restore"], { error: expected('one of "retain", "disable", "restore"') })
      .default("retain"),
    /**
     * Set by the SDK class, never by a program: "" that is secret exactly when a managed section holds a secret, so
     * that Pulumi marks the output of the same name (the sections read from the account) secret too.
     */
    previousConfig: z.literal("").optional(),
  })
  .strict()
  .superRefine((inputs, context) => {
    if (!inputs.functionConfig && !inputs.containerConfig) {
      context.addIssue({
        code: "custom",
        path: [],
        message: "set functionConfig, containerConfig or both: a CallbackConfig with neither manages nothing",
      });
    }
  });

/** The inputs as check normalizes them and state stores them. */
export type CallbackConfigState = z.output<typeof CallbackConfigInputs>;
type Sections = Pick<CallbackConfigState, "functionConfig" | "containerConfig">;
/** The two sections, each managed only when the program declares it. */
const SECTIONS = ["functionConfig", "containerConfig"] as const;
/** The resource's outputs: the normalized inputs and what the account held before the resource took over. */
export interface CallbackConfigOutputs extends Omit<CallbackConfigState, "previousConfig"> {
  /** The managed sections as they were before this resource first set them; `restore` puts them back. */
  readonly previousConfig: Sections;
}

// The public types (types.ts, free of zod) must be exactly what the schema accepts and state holds.
const inputsMatch: Same<Omit<z.input<typeof CallbackConfigInputs>, "previousConfig">, CallbackConfigArgs> = true;
const outputsMatch: Same<CallbackConfigOutputs, PublicOutputs> = true;
const sectionsMatch: Same<Sections, CallbackSections> = true;
void [inputsMatch, outputsMatch, sectionsMatch];

function toApi(sections: Sections): CallbackConfigBody {
  const api: CallbackConfigBody = {};
  if (sections.functionConfig) {
    const { enable, callbacks } = sections.functionConfig;
    api.function_config = {
      enable,
      callbacks: callbacks.map(({ msgType, event, env, functionName, enable }) => ({ msgType, event, env, functionName, enable })),
    };
  }
  if (sections.containerConfig) {
    const { enable, qbaseEnv, qbaseContainerPath, textMode } = sections.containerConfig;
    api.container_config = { enable, qbase_env: qbaseEnv, qbase_container_path: qbaseContainerPath, text_mode: textMode };
  }
  return api;
}

/**
 * The account's sections in this package's shape, limited to the sections in `managed`. A managed section missing
 * from the answer, or not in the documented shape, is an error: an empty stand-in would later be "restored" over
 * the account's real configuration.
 */
function fromApi(appId: string, data: { function_config?: unknown; container_config?: unknown }, managed: Sections): Sections {
  const parse = <T>(schema: z.ZodType<T>, value: unknown, name: string): T => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw new WeChatAnswerError({ api: API.getCallbackConfig.name, appId }, firstProblem(parsed.error, ["data", name]));
  };
  const sections: { -readonly [K in keyof Sections]: Sections[K] } = {};
  if (managed.functionConfig) {
    const { enable, callbacks } = parse(FunctionSection, data.function_config, "function_config");
    sections.functionConfig = {
      enable,
      callbacks: callbacks.map(({ msgType, event, env, functionName, enable }) => ({ msgType, event, env, functionName, enable })),
    };
  }
  if (managed.containerConfig) {
    const section = parse(ContainerSection, data.container_config, "container_config");
    sections.containerConfig = {
      enable: section.enable,
      qbaseEnv: section.qbase_env,
      qbaseContainerPath: section.qbase_container_path,
      textMode: section.text_mode,
    };
  }
  return sections;
}

/** Reads the account's push configuration (`tcb/getcallbackconfig`), limited to the managed sections. */
async function getSections(context: Context, appId: string, managed: Sections): Promise<Sections> {
  const answer = await context.call(appId, API.getCallbackConfig, {});
  return fromApi(appId, answer.data, managed);
}

/** Sends the given sections (`tcb/setcallbackconfig`); the sections left out stay as they are on the account. */
async function setSections(context: Context, appId: string, sections: Sections): Promise<void> {
  const body = toApi(sections);
  if (!body.function_config && !body.container_config) return;
  await context.call(appId, API.setCallbackConfig, body);
}

/** Callbacks compared as a set keyed by message type and event: their order carries no meaning for WeChat. */
function canonical(name: string, value: unknown): unknown {
  if (name !== "functionConfig" || !value || typeof value !== "object") return value;
  const section = value as NonNullable<Sections["functionConfig"]>;
  if (!Array.isArray(section.callbacks)) return value;
  const key = (callback: (typeof section.callbacks)[number]) => `${callback.msgType}/${callback.event}`;
  return { ...section, callbacks: [...section.callbacks].sort((a, b) => key(a).localeCompare(key(b))) };
}

/** The sections of `wanted` that differ from `current` (compared as the diff compares them). */
function changedSections(current: Sections, wanted: Sections): Sections {
  const changed: Record<string, unknown> = {};
  for (const name of SECTIONS) {
    if (wanted[name] && !sameValue(canonical(name, current[name]), canonical(name, wanted[name]))) changed[name] = wanted[name];
  }
  return changed as Sections;
}

/**
 * The managed sections after a set whose answer was lost (it may have been applied): read back; and, when even that
 * read fails, the sections known before without those that were sent, so that state claims nothing about them and
 * the next `pulumi up` sends them again.
 */
async function readBack(context: Context, appId: string, managed: Sections, before: Sections, sent: Sections): Promise<Sections> {
  try {
    return await getSections(context, appId, managed);
  } catch {
    const held: Record<string, unknown> = { ...before };
    for (const name of SECTIONS) if (sent[name]) delete held[name];
    return held as Sections;
  }
}

/** The outputs of a resource that exists but did not finish: its sections are what the account holds. */
function holding(outs: CallbackConfigOutputs, held: Sections): Record<string, unknown> {
  return { ...outs, functionConfig: undefined, containerConfig: undefined, ...held };
}

const idOf = (appId: string) => `${appId}/callback-config`;

function checkConfig(news: Record<string, unknown>, context: Context): CheckResult<CallbackConfigState> {
  const checked = checkWith(CallbackConfigInputs, news);
  if (!checked.inputs) return checked;
  const failures = [
    ...accountFailures(checked.inputs.authorizerAppId, context.config.credentials),
    ...claimFailures(context.claims, idOf(checked.inputs.authorizerAppId), checked.inputs, "authorizerAppId"),
  ];
  return failures.length ? { failures } : checked;
}

function diffConfig(_id: string, olds: CallbackConfigOutputs, news: CallbackConfigState): DiffResult {
  return diffProperties<CallbackConfigState>(
    olds,
    news,
    { identity: ["authorizerAppId"], mutable: ["functionConfig", "containerConfig", "deleteBehavior"] },
    canonical,
  );
}

/**
 * Takes the managed sections over: reads them (kept as `previousConfig` for `restore`), then sends the sections
 * that differ from what is declared, and nothing when the account already agrees.
 */
async function createConfig(context: Context, inputs: CallbackConfigState): Promise<CreateResult<CallbackConfigOutputs>> {
  const id = idOf(inputs.authorizerAppId);
  const previousConfig = await getSections(context, inputs.authorizerAppId, inputs);
  const outs = { ...inputs, previousConfig };
  const changed = changedSections(previousConfig, inputs);
  try {
    await setSections(context, inputs.authorizerAppId, changed);
  } catch (error) {
    const held = mayHaveApplied(error) ? await readBack(context, inputs.authorizerAppId, inputs, previousConfig, changed) : previousConfig;
    if (Object.keys(changedSections(held, inputs)).length === 0) return { id, outs };
    // Keep the resource with what the account holds, so `previousConfig` survives for `restore` and the next
    // `pulumi up` sends the declared sections again.
    throw new PartialFailure(id, holding(outs, held), error as Error);
  }
  return { id, outs };
}

/**
 * The sections a resource manages: those its state holds, and those it holds no value for because the outcome of
 * their last set is unknown (`previousConfig` still has what to restore).
 */
function managedSections(props: CallbackConfigOutputs): Sections {
  return {
    functionConfig: props.functionConfig ?? props.previousConfig?.functionConfig,
    containerConfig: props.containerConfig ?? props.previousConfig?.containerConfig,
  };
}

/** Refresh: the managed sections as the account holds them now; differences are drift, fixed by the next up. */
async function readConfig(context: Context, id: string, props: CallbackConfigOutputs): Promise<ReadResult<CallbackConfigOutputs>> {
  const current = await getSections(context, props.authorizerAppId, managedSections(props));
  return { id, props: { ...props, ...current } };
}

/**
 * Sends only the sections that changed. A section the program starts managing is read first, so that `restore`
 * can put it back too; a section it stops managing is left as it is on the account and forgotten.
 */
async function updateConfig(
  context: Context,
  id: string,
  olds: CallbackConfigOutputs,
  news: CallbackConfigState,
): Promise<UpdateResult<CallbackConfigOutputs>> {
  const previousConfig: Record<string, unknown> = {};
  const newlyManaged: Record<string, unknown> = {};
  for (const name of SECTIONS) {
    if (!news[name]) continue;
    if (olds.previousConfig?.[name]) previousConfig[name] = olds.previousConfig[name];
    else newlyManaged[name] = news[name];
  }
  const found = Object.keys(newlyManaged).length ? await getSections(context, news.authorizerAppId, newlyManaged) : {};
  Object.assign(previousConfig, found);
  const outs = { ...news, previousConfig: previousConfig as Sections };
  const current: Sections = { functionConfig: olds.functionConfig, containerConfig: olds.containerConfig, ...found };
  const changed = changedSections(current, news);
  try {
    await setSections(context, news.authorizerAppId, changed);
  } catch (error) {
    // A refused set leaves the account, and so the state, as it was; a lost answer records what is read back.
    if (!mayHaveApplied(error)) throw error;
    const held = await readBack(context, news.authorizerAppId, news, current, changed);
    if (Object.keys(changedSections(held, news)).length === 0) return { outs };
    throw new PartialFailure(id, holding(outs, held), error as Error);
  }
  return { outs };
}

/**
 * Lets go of the managed sections per `deleteBehavior`. Disable and restore always send, even when state says the
 * account is that way already: state may be older than the account. A configuration another resource manages in
 * this deployment (a rename) is left to it.
 */
async function deleteConfig(context: Context, id: string, props: CallbackConfigOutputs): Promise<void> {
  if (context.claims.has(id)) return;
  const managed = managedSections(props);
  const disabled = (section: { enable: boolean } | undefined) => section && { ...section, enable: false };
  const target = {
    retain: undefined,
    disable: { functionConfig: disabled(managed.functionConfig), containerConfig: disabled(managed.containerConfig) },
    restore: {
      functionConfig: managed.functionConfig && props.previousConfig?.functionConfig,
      containerConfig: managed.containerConfig && props.previousConfig?.containerConfig,
    },
  }[props.deleteBehavior ?? "retain"];
  if (target) await setSections(context, props.authorizerAppId, target as Sections);
}

/** The operations, for `dynamicProvider` (index.ts builds providers with another transport from it). */
export const definition = {
  check: checkConfig,
  diff: diffConfig,
  create: createConfig,
  read: readConfig,
  update: updateConfig,
  delete: deleteConfig,
};

// This module's exports are the provider object Pulumi's host calls (see sdk/handover.ts).
const provider = dynamicProvider(definition);
export const { configure, check, diff, create, read, update } = provider;
const remove = provider.delete;
export { remove as delete };
