// SCAFFOLD (helper D replaces this file): the coordinator's calls for verified domains and domain join.
import { fail, type Outcome } from '../errors';
import type { Caller, WriteContext } from '../lib/write-context';

export type AddDomainInput = { domain: string };
export type VerifyDomainInput = { id: string } & Record<string, unknown>;

const todo = async (..._args: unknown[]): Promise<Outcome<{ todo: true }>> => fail('internal_error');
export const addDomain = (ctx: WriteContext, caller: Caller, input: AddDomainInput) => todo(ctx, caller, input);
export const verifyDomain = (ctx: WriteContext, caller: Caller, input: VerifyDomainInput) => todo(ctx, caller, input);
export const deleteDomain = (ctx: WriteContext, caller: Caller, input: { id: string }) => todo(ctx, caller, input);
export const joinByDomain = (ctx: WriteContext, caller: Caller) => todo(ctx, caller);
