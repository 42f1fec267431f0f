-- 0007_history_size: a sealed history may now hold about 450,000 fills. 0006 capped it at 700,000
-- base64 chars (≈ 17,000 fills), the most a 1 MiB RPC frame could carry; a larger account's history
-- was then not kept, so fills older than the exchange's window (Binance futures 6 months, OKX 3)
-- would drop out of its next result. The frame cap is now 32 MiB (src/wire/frame.ts) and the blob
-- cap 24,000,000 chars (src/wire/messages.ts MAX_HISTORY_B64); the length test still runs first.
ALTER TABLE session_history DROP CONSTRAINT session_history_ciphertext_b64;
ALTER TABLE session_history ADD CONSTRAINT session_history_ciphertext_b64 CHECK (
  length(ciphertext) BETWEEN 40 AND 24000000
  AND ciphertext ~ '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$');
