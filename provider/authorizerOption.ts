/**
 * AuthorizerOption: one option of an authorized account (location reporting, speech recognition, multi-customer
 * service), through `set_authorizer_option` / `get_authorizer_option`.
 *
 * Reads top to bottom: the input schema, the two API calls, then check, diff, create, read, update, delete, as
 * Pulumi's dynamic-provider host calls them. This module's exports are the provider object itself (see sdk/).
 */
import { z } from "zod";
import { API } from "./api";
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
} from "./resource";
import { AuthorizerOptionArgs, OPTION_VALUES, OptionName, AuthorizerOptionOutputs as PublicOutputs } from "./types";

const OPTION_NAMES = Object.keys(OPTION_VALUES) as [OptionName, ...OptionName[]];

/** The inputs of an AuthorizerOption; types.ts gives the same shape without zod, and is checked against it below. */
export const AuthorizerOptionInputs = z
  .object({
    authorizerAppId,
    optionName: z.enum(OPTION_NAMES, { error: expected(`one of ${OPTION_NAMES.join(", ")}`) }),
    optionValue: z.union([z.string(), z.number()], { error: expected("a number or a numeric string, e.g. 1") }).transform(String),
    deleteBehavior: z.enum(["retain", "reset", "restore"], { error: expected('one of "retain", "reset", "restore"') }).default("retain"),
    /**
     * Set by the SDK class, never by a program: "" that is secret exactly when `optionValue` is, so that Pulumi
     * marks the output of the same name (the value read from the account) secret too.
     */
    previousValue: z.literal("").optional(),
  })
  .strict()
  .superRefine((inputs, context) => {
    const allowed: readonly string[] = OPTION_VALUES[inputs.optionName];
    if (!allowed.includes(inputs.optionValue)) {
      context.addIssue({
        code: "custom",
        path: ["optionValue"],
        message: `is not a value of ${inputs.optionName}: use one of ${allowed.join(", ")}`,
      });
    }
  });

/** The inputs as check normalizes them and state stores them. */
export type AuthorizerOptionState = z.output<typeof AuthorizerOptionInputs>;
/** The resource's outputs: the normalized inputs and the value the account held before the resource took over. */
export interface AuthorizerOptionOutputs extends Omit<AuthorizerOptionState, "previousValue"> {
  /** The option's value before this resource first set it; `restore` puts it back on delete. */
  readonly previousValue: string;
}

// The public types (types.ts, free of zod) must be exactly what the schema accepts and state holds.
const inputsMatch: Same<Omit<z.input<typeof AuthorizerOptionInputs>, "previousValue">, AuthorizerOptionArgs> = true;
const outputsMatch: Same<AuthorizerOptionOutputs, PublicOutputs> = true;
void [inputsMatch, outputsMatch];

/** Reads an option's current value (`get_authorizer_option`): one of the values WeChat documents for the option. */
async function getOption(context: Context, appId: string, optionName: OptionName): Promise<string> {
  const answer = await context.call(appId, API.getAuthorizerOption, { option_name: optionName });
  const allowed: readonly string[] = OPTION_VALUES[optionName];
  if (!allowed.includes(answer.option_value)) {
    // Kept, it would become previousValue, and `restore` would send it back to the account.
    const problem = `option_value: expected one of ${allowed.join(", ")} for ${optionName}, got ${JSON.stringify(answer.option_value)}`;
    throw new WeChatAnswerError({ api: API.getAuthorizerOption.name, appId }, problem);
  }
  return answer.option_value;
}

/** Sets an option's value (`set_authorizer_option`). */
async function setOption(context: Context, appId: string, optionName: OptionName, optionValue: string): Promise<void> {
  await context.call(appId, API.setAuthorizerOption, { option_name: optionName, option_value: optionValue });
}

/**
 * What the account holds after a set whose answer was lost (it may have been applied): read back, or undefined when
 * even that read fails, so that state claims nothing and the next `pulumi up` sends the value again.
 */
function readBack(context: Context, inputs: AuthorizerOptionState): Promise<string | undefined> {
  return getOption(context, inputs.authorizerAppId, inputs.optionName).catch(() => undefined);
}

const idOf = (inputs: Pick<AuthorizerOptionState, "authorizerAppId" | "optionName">) => `${inputs.authorizerAppId}/${inputs.optionName}`;

function checkOption(news: Record<string, unknown>, context: Context): CheckResult<AuthorizerOptionState> {
  const checked = checkWith(AuthorizerOptionInputs, news);
  if (!checked.inputs) return checked;
  const failures = [
    ...accountFailures(checked.inputs.authorizerAppId, context.config.credentials),
    ...claimFailures(context.claims, idOf(checked.inputs), checked.inputs, "optionName"),
  ];
  return failures.length ? { failures } : checked;
}

function diffOption(_id: string, olds: AuthorizerOptionOutputs, news: AuthorizerOptionState): DiffResult {
  return diffProperties<AuthorizerOptionState>(olds, news, {
    identity: ["authorizerAppId", "optionName"],
    mutable: ["optionValue", "deleteBehavior"],
  });
}

/**
 * Takes the option over: the option always exists on the account, so create reads its value (kept as
 * `previousValue` for `restore`) and sets the declared one, skipping the set when they already agree.
 */
async function createOption(context: Context, inputs: AuthorizerOptionState): Promise<CreateResult<AuthorizerOptionOutputs>> {
  const id = idOf(inputs);
  const previousValue = await getOption(context, inputs.authorizerAppId, inputs.optionName);
  const outs = { ...inputs, previousValue };
  if (previousValue === inputs.optionValue) return { id, outs };
  try {
    await setOption(context, inputs.authorizerAppId, inputs.optionName, inputs.optionValue);
  } catch (error) {
    const held = mayHaveApplied(error) ? await readBack(context, inputs) : previousValue;
    if (held === inputs.optionValue) return { id, outs };
    // Keep the resource with what the account holds: `previousValue` survives for `restore`, and the next
    // `pulumi up` sees the difference and sets the value again.
    throw new PartialFailure(id, { ...outs, optionValue: held }, error as Error);
  }
  return { id, outs };
}

/** Refresh: what the account holds now. A difference from the declared value is drift, fixed by the next up. */
async function readOption(context: Context, id: string, props: AuthorizerOptionOutputs): Promise<ReadResult<AuthorizerOptionOutputs>> {
  const optionValue = await getOption(context, props.authorizerAppId, props.optionName);
  return { id, props: { ...props, optionValue } };
}

async function updateOption(
  context: Context,
  id: string,
  olds: AuthorizerOptionOutputs,
  news: AuthorizerOptionState,
): Promise<UpdateResult<AuthorizerOptionOutputs>> {
  const outs = { ...news, previousValue: olds.previousValue };
  if (olds.optionValue === news.optionValue) return { outs };
  try {
    await setOption(context, news.authorizerAppId, news.optionName, news.optionValue);
  } catch (error) {
    // A refused set leaves the account, and so the state, as it was; a lost answer records what is read back.
    if (!mayHaveApplied(error)) throw error;
    const held = await readBack(context, news);
    if (held === news.optionValue) return { outs };
    throw new PartialFailure(id, { ...outs, optionValue: held }, error as Error);
  }
  return { outs };
}

/**
 * Lets go of the option per `deleteBehavior`. Reset and restore always send the value, even when state says the
 * account holds it already: state may be older than the account (no refresh since an out-of-band change). An option
 * another resource manages in this deployment (a rename) is left to it.
 */
async function deleteOption(context: Context, id: string, props: AuthorizerOptionOutputs): Promise<void> {
  if (context.claims.has(id)) return;
  const target = { retain: undefined, reset: "0", restore: props.previousValue }[props.deleteBehavior ?? "retain"];
  if (target !== undefined) await setOption(context, props.authorizerAppId, props.optionName, target);
}

/** The operations, for `dynamicProvider` (index.ts builds providers with another transport from it). */
export const definition = {
  check: checkOption,
  diff: diffOption,
  create: createOption,
  read: readOption,
  update: updateOption,
  delete: deleteOption,
};

// This module's exports are the provider object Pulumi's host calls (see sdk/handover.ts).
const provider = dynamicProvider(definition);
export const { configure, check, diff, create, read, update } = provider;
const remove = provider.delete;
export { remove as delete };
