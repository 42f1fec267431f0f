/**
 * The transparency log core (protocol §6): RFC 6962 / RFC 9162 Merkle trees, proofs served from
 * stored perfect subtrees, C2SP signed notes, checkpoints and tile paths. Browser-safe: Uint8Array
 * only, hashing and signatures through the injected Platform. Design: docs/tlog.md.
 */
export { TLOG_CODES, TlogError, type TlogCode } from './errors.js';
export { HASH_SIZE, emptyRoot, leafHash, nodeHash } from './hash.js';
export { MerkleRootBuilder } from './root.js';
export { nodeCoverage, type NodeId, type StoredNode } from './node-id.js';
export { CompactRange, type AppendResult } from './compact-range.js';
export { consistencyProofPlan, inclusionProofPlan, type ProofPlan } from './proof-plan.js';
export { consistencyProof, inclusionProof, merkleTreeHash } from './proof.js';
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verify.js';
export {
  ED25519_SIG_TYPE,
  formatVerifierKey,
  isValidKeyName,
  keyIdHex,
  noteKeyId,
  parseSignerKey,
  parseVerifierKey,
  verifierFromSigner,
  type NoteSigner,
  type NoteVerifier,
} from './note-key.js';
export {
  MAX_NOTE_SIGNATURES,
  openNote,
  parseNote,
  signNote,
  type NoteSignature,
  type OpenedNote,
} from './note.js';
export {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  type Checkpoint,
} from './checkpoint.js';
export {
  MAX_TILE_LEVEL,
  TILE_HEIGHT,
  TILE_WIDTH,
  parseTilePath,
  tileHashes,
  tileNodeIds,
  tilePath,
  tileWidth,
  type TileId,
} from './tiles.js';
