// SCAFFOLD (helper L replaces this file): the coordinator's calls for invite links.
import { fail, type Outcome } from '../errors';
import type { Caller, WriteContext } from '../lib/write-context';

export type CreateLinkInput = Record<string, unknown>;
export type UpdateLinkInput = { id: string } & Record<string, unknown>;
export type RotateLinkInput = { id: string } & Record<string, unknown>;
export type RedeemInput = { codeHash: string };

const todo = async (..._args: unknown[]): Promise<Outcome<{ todo: true }>> => fail('internal_error');
export const createInviteLink = (ctx: WriteContext, caller: Caller, input: CreateLinkInput) => todo(ctx, caller, input);
export const updateInviteLink = (ctx: WriteContext, caller: Caller, input: UpdateLinkInput) => todo(ctx, caller, input);
export const rotateInviteLink = (ctx: WriteContext, caller: Caller, input: RotateLinkInput) => todo(ctx, caller, input);
export const deleteInviteLink = (ctx: WriteContext, caller: Caller, input: { id: string }) => todo(ctx, caller, input);
export const redeemInviteLink = (ctx: WriteContext, caller: Caller, input: RedeemInput) => todo(ctx, caller, input);
