-- wrk_create.lua: POST /v2/tokens/create bodies for wrk (keep-alive is wrk's default).
-- The organization comes from the environment: BENCH_ORG_ID and BENCH_SECRET_KEY.
-- Each request asks for a token of one of 1000 e-mails, bench-NNNNNN@example.com (fixed
-- width, so every answer has the same size), with replace_existing true: the common case
-- of a backend renewing a user's credential.
local org = os.getenv("BENCH_ORG_ID") or "org_000000000000"
local key = os.getenv("BENCH_SECRET_KEY") or "sk_missing"
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  local email = string.format("bench-%06d@example.com", counter % 1000)
  local body = string.format(
    '{"organization_id":"%s","secret_key":"%s","user_email":"%s","replace_existing":true}',
    org, key, email)
  return wrk.format(nil, nil, nil, body)
end
