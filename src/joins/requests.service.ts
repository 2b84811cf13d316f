// SCAFFOLD (helper R replaces this file): the coordinator's calls for join requests.
import { fail, type Outcome } from '../errors';
import type { Caller, WriteContext } from '../lib/write-context';

export type ApproveInput = { id: string } & Record<string, unknown>;
export type RejectInput = { id: string } & Record<string, unknown>;

const todo = async (..._args: unknown[]): Promise<Outcome<{ todo: true }>> => fail('internal_error');
export const approveJoinRequest = (ctx: WriteContext, caller: Caller, input: ApproveInput) => todo(ctx, caller, input);
export const rejectJoinRequest = (ctx: WriteContext, caller: Caller, input: RejectInput) => todo(ctx, caller, input);
export const withdrawJoinRequest = (ctx: WriteContext, caller: Caller, input: { id: string }) =>
  todo(ctx, caller, input);
