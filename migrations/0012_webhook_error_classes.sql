-- SPEC §18: the webhook delivery log, which owners and admins read, names errors by one of a fixed
-- set of classes (src/webhooks/attempt-errors.ts), never by the runtime's own text: that text told
-- an open port from a closed one. Attempts logged before this migration are rewritten to their
-- class, and so is the last error quoted in an auto-disabled endpoint's reason. No schema change.
-- The texts replaced are the ones the sender wrote until now:
--   "HTTP <status>: redirects are not followed"  -> redirect_not_followed
--   "HTTP <status>"                               -> http_<status>
--   "No answer within <n> s"                      -> timeout
--   "Network error: <runtime text>"               -> tls_error when it names TLS, SSL or a
--                                                    certificate, else connection_failed
-- (instr and substr rather than LIKE: D1 refuses LIKE patterns longer than 50 bytes.)
UPDATE `webhook_attempts` SET `error` = CASE
    WHEN `error` = 'HTTP ' || `status_code` || ': redirects are not followed' THEN 'redirect_not_followed'
    WHEN `error` = 'HTTP ' || `status_code` THEN 'http_' || `status_code`
    WHEN substr(`error`, 1, 17) = 'No answer within ' THEN 'timeout'
    WHEN instr(upper(`error`), 'TLS') > 0 OR instr(upper(`error`), 'SSL') > 0 OR instr(lower(`error`), 'certificate') > 0 THEN 'tls_error'
    ELSE 'connection_failed'
  END
WHERE `error` IS NOT NULL
  AND `error` NOT IN ('timeout', 'connection_failed', 'tls_error', 'redirect_not_followed', 'refused')
  AND substr(`error`, 1, 5) != 'http_';
--> statement-breakpoint
-- "Disabled after every delivery failed for 24 hours (last: <text>)": the prefix is 57 characters.
UPDATE `webhook_endpoints` SET `disabled_reason` = substr(`disabled_reason`, 1, 57) || (
    SELECT CASE
        WHEN substr(last, 1, 6) = 'HTTP 3' AND instr(last, 'redirects are not followed') > 0 THEN 'redirect_not_followed'
        WHEN last GLOB 'HTTP [0-9][0-9][0-9]' THEN 'http_' || substr(last, 6, 3)
        WHEN substr(last, 1, 17) = 'No answer within ' THEN 'timeout'
        WHEN instr(upper(last), 'TLS') > 0 OR instr(upper(last), 'SSL') > 0 OR instr(lower(last), 'certificate') > 0 THEN 'tls_error'
        ELSE 'connection_failed'
      END
    FROM (SELECT substr(`disabled_reason`, 58, length(`disabled_reason`) - 58) AS last)
  ) || ')'
WHERE substr(`disabled_reason`, 1, 57) = 'Disabled after every delivery failed for 24 hours (last: '
  AND substr(`disabled_reason`, 58) NOT IN ('timeout)', 'connection_failed)', 'tls_error)', 'redirect_not_followed)')
  AND substr(`disabled_reason`, 58, 5) != 'http_';
