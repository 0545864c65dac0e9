/**
 * AuthorizerOption: one option of an authorized account (location reporting, speech recognition, multi-customer
 * service), through `set_authorizer_option` / `get_authorizer_option`.
 *
 * Reads top to bottom: the input schema, the two API calls, then check, diff, create, read, update, delete, as
 * Pulumi's dynamic-provider host calls them. This module's exports are the provider object itself (see sdk/).
 */
import { z } from "zod";
import { ConfigSource } from "./config";
import { WeChatApiError } from "./errors";
import {
  CheckResult,
  CreateResult,
  DiffResult,
  PartialFailure,
  ReadResult,
  UpdateResult,
  authorizerAppId,
  checkWith,
  diffProperties,
} from "./resource";
import { configureSession, session } from "./session";

/** The option values WeChat accepts, per option (the API's strings). */
export const OPTION_VALUES = {
  /** Geographic location reporting: 0 none, 1 when a session is entered, 2 every 5 seconds. */
  location_report: ["0", "1", "2"],
  /** Speech recognition: 0 off, 1 on. */
  voice_recognize: ["0", "1"],
  /** Multi-customer service: 0 off, 1 on. */
  customer_service: ["0", "1"],
} as const;

export type OptionName = keyof typeof OPTION_VALUES;

const OPTION_NAMES = Object.keys(OPTION_VALUES) as [OptionName, ...OptionName[]];

/** The inputs of an AuthorizerOption; `z.input` of it is the SDK's argument type, `z.output` what state holds. */
export const AuthorizerOptionInputs = z
  .object({
    /** The authorized account (wx followed by 16 lowercase hex characters). Changing it replaces the resource. */
    authorizerAppId,
    /** Which option: `location_report`, `voice_recognize` or `customer_service`. Changing it replaces the resource. */
    optionName: z.enum(OPTION_NAMES, { error: `optionName is required: one of ${OPTION_NAMES.join(", ")}` }),
    /**
     * The value, as a number or the API's string: `location_report` 0 (off), 1 (on entering a session),
     * 2 (every 5 seconds); `voice_recognize` and `customer_service` 0 (off) or 1 (on). Stored as the API's string.
     */
    optionValue: z
      .union([z.string(), z.number()], { error: "optionValue is required: a number or numeric string, e.g. 1" })
      .transform(String),
    /**
     * What `pulumi destroy` (or removing the resource) does to the account: `retain` leaves the value as it is
     * (default), `reset` sets it to 0, `restore` puts back the value the account had before this resource took over.
     */
    deleteBehavior: z.enum(["retain", "reset", "restore"]).default("retain"),
  })
  .strict()
  .superRefine((inputs, context) => {
    const allowed: readonly string[] = OPTION_VALUES[inputs.optionName];
    if (!allowed.includes(inputs.optionValue)) {
      context.addIssue({
        code: "custom",
        path: ["optionValue"],
        message: `${JSON.stringify(inputs.optionValue)} is not a value of ${inputs.optionName}: use one of ${allowed.join(", ")}`,
      });
    }
  });

/** What a program passes (numbers allowed, deleteBehavior optional). */
export type AuthorizerOptionInputs = z.input<typeof AuthorizerOptionInputs>;
/** The inputs as check normalizes them and state stores them. */
export type AuthorizerOptionState = z.output<typeof AuthorizerOptionInputs>;
/** The resource's outputs: the normalized inputs and the value the account held before the resource took over. */
export interface AuthorizerOptionOutputs extends AuthorizerOptionState {
  /** The option's value before this resource first set it; `restore` puts it back on delete. */
  readonly previousValue: string;
}

/** Reads an option's current value (`get_authorizer_option`). */
export async function getAuthorizerOption(appId: string, optionName: OptionName): Promise<string> {
  const answer = await session().call(appId, "get_authorizer_option", "/cgi-bin/component/get_authorizer_option", {
    option_name: optionName,
  });
  if (answer.option_value === undefined) {
    throw new WeChatApiError({ api: "get_authorizer_option", appId }, -1000, "answer carried no option_value");
  }
  return String(answer.option_value);
}

/** Sets an option's value (`set_authorizer_option`). */
export async function setAuthorizerOption(appId: string, optionName: OptionName, optionValue: string): Promise<void> {
  await session().call(appId, "set_authorizer_option", "/cgi-bin/component/set_authorizer_option", {
    option_name: optionName,
    option_value: optionValue,
  });
}

const idOf = (inputs: AuthorizerOptionState) => `${inputs.authorizerAppId}/${inputs.optionName}`;

/** Pulumi hands over the stack configuration (credentials, API URL, limits); nothing is called yet. */
export async function configure(request: { config?: ConfigSource }): Promise<void> {
  configureSession(request.config);
}

export async function check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<CheckResult<AuthorizerOptionState>> {
  return checkWith(AuthorizerOptionInputs, news);
}

export async function diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<DiffResult> {
  return diffProperties<AuthorizerOptionState>(olds, news, {
    identity: ["authorizerAppId", "optionName"],
    mutable: ["optionValue", "deleteBehavior"],
  });
}

/**
 * Takes the option over: the option always exists on the account, so create reads its value (kept as
 * `previousValue` for `restore`) and sets the declared one, skipping the set when they already agree.
 */
export async function create(inputs: AuthorizerOptionState): Promise<CreateResult<AuthorizerOptionOutputs>> {
  const id = idOf(inputs);
  session().claimed.add(id);
  const previousValue = await getAuthorizerOption(inputs.authorizerAppId, inputs.optionName);
  if (previousValue !== inputs.optionValue) {
    try {
      await setAuthorizerOption(inputs.authorizerAppId, inputs.optionName, inputs.optionValue);
    } catch (error) {
      // Keep the resource, with the value the account still holds: `previousValue` survives for `restore`, and
      // the next `pulumi up` sees the difference and sets the value again.
      throw new PartialFailure(id, { ...inputs, optionValue: previousValue, previousValue }, error as Error);
    }
  }
  return { id, outs: { ...inputs, previousValue } };
}

/** Refresh: what the account holds now. A difference from the declared value is drift, fixed by the next up. */
export async function read(id: string, props: AuthorizerOptionOutputs): Promise<ReadResult<AuthorizerOptionOutputs>> {
  const optionValue = await getAuthorizerOption(props.authorizerAppId, props.optionName);
  return { id, props: { ...props, optionValue } };
}

export async function update(
  id: string,
  olds: AuthorizerOptionOutputs,
  news: AuthorizerOptionState,
): Promise<UpdateResult<AuthorizerOptionOutputs>> {
  session().claimed.add(id);
  if (olds.optionValue !== news.optionValue) {
    await setAuthorizerOption(news.authorizerAppId, news.optionName, news.optionValue);
  }
  return { outs: { ...news, previousValue: olds.previousValue } };
}

/**
 * Lets go of the option per `deleteBehavior`. Reset and restore always send the value, even when state says the
 * account holds it already: state may be older than the account (no refresh since an out-of-band change). An option
 * another resource took over in this deployment (a rename) is left to it.
 */
async function deleteAuthorizerOption(id: string, props: AuthorizerOptionOutputs): Promise<void> {
  if (session().claimed.has(id)) return;
  const target = { retain: undefined, reset: "0", restore: props.previousValue }[props.deleteBehavior ?? "retain"];
  if (target !== undefined) await setAuthorizerOption(props.authorizerAppId, props.optionName, target);
}
export { deleteAuthorizerOption as delete };
