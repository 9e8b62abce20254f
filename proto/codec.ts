// The canonical form of a message: what the other side decodes from it. Encoding a
// message and decoding it again with the loader's options (proto/load.ts) fills in
// defaults, turns 64-bit integers into strings and enums into names, and drops
// anything the .proto does not define. The agent records and diffs messages in this
// form, so a replayed response and a patched state equal what a client decodes.
import { loadAgentProto } from './load.ts';
import type { DecodedResponseOf, ResponseOf, UnaryMethod } from './methods.ts';
import type { AgentState } from './generated/coxswain/agent/v1/AgentState.ts';
import type { AgentState__Output } from './generated/coxswain/agent/v1/AgentState.ts';

/** A response of `method` as the caller will decode it. */
export function canonicalResponse<M extends UnaryMethod>(method: M, response: ResponseOf<M>): DecodedResponseOf<M> {
  // The method definition is indexed by a generic key, so TypeScript sees a union of
  // codecs; the key fixes which one, and its types are those of ResponseOf<M>.
  const def = loadAgentProto().agentService[method] as unknown as {
    responseSerialize(value: ResponseOf<M>): Buffer;
    responseDeserialize(bytes: Buffer): DecodedResponseOf<M>;
  };
  return def.responseDeserialize(def.responseSerialize(response));
}

/** An observed state as the caller will decode it. */
export function canonicalState(state: AgentState): AgentState__Output {
  const decoded = canonicalResponse('GetState', { state }).state;
  if (decoded === null) throw new Error('canonicalState: GetStateResponse lost its state');
  return decoded;
}
