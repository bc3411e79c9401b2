// How an integration uses the TypeScript types generated from the schema (README "API").
// CI compiles this file against freshly generated types (`npm run api:check`): no cast, no `any`.
// A change to the schema that breaks a client written like this fails the build.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type ApiError = components["schemas"]["Error"];
type ErrorCode = ApiError["code"];
type ProviderPublic = components["schemas"]["ProviderPublic"];

export function describe(error: ApiError): string {
  const fields = Object.entries(error.fields ?? {}).map(([name, messages]) => `${name}: ${messages.join(" ")}`);
  return [`${error.detail} (${error.code})`, ...fields].join("\n");
}

export async function coreLoop(baseUrl: string, email: string, password: string): Promise<string[]> {
  const log: string[] = [];
  const anonymous = createClient<paths>({ baseUrl });

  const registered = await anonymous.POST("/api/v1/auth/register/", { body: { email, password, name: "Dana" } });
  if (registered.error) {
    const code: ErrorCode = registered.error.code; // a typed error, not `never`
    return [code === "email_taken" ? "Log in instead." : describe(registered.error)];
  }
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Token ${registered.data.token}` } });

  const categories = await anonymous.GET("/api/v1/categories/", { params: { query: { limit: 50 } } });
  const category = categories.data?.results.find((c) => c.active);
  if (!category) return ["No active category."];

  const directory = await anonymous.GET("/api/v1/providers/", {
    params: { query: { category: category.name, state: "TX", max_price: 200, min_rating: 4 } },
  });
  const first: ProviderPublic | undefined = directory.data?.results[0];
  if (first) {
    const owner: number | undefined = first.user; // only the owner and staff see it
    log.push(`${first.business_name} (${first.rating_avg}) ${owner ?? "private"}`);
  }

  const seeker = await api.POST("/api/v1/seekers/", {
    body: { category: category.name, needs_description: "Retire at 60.", budget_max: "300.00", state: "TX" },
  });
  if (seeker.error) return [describe(seeker.error)];

  const run = await api.POST("/api/v1/seekers/{seeker_id}/match/", { params: { path: { seeker_id: seeker.data.id } } });
  for (const match of run.data?.matches ?? []) {
    const reasons: string[] = match.reasons;
    const needFit: number | undefined = match.breakdown["need_fit"];
    log.push(`${match.rank}. ${match.provider.business_name}: ${reasons.join("; ")} (${needFit ?? 0})`);
  }
  const best = run.data?.matches[0];
  if (best) {
    const introduced = await api.POST("/api/v1/matches/{id}/introduce/", { params: { path: { id: best.id } } });
    if (introduced.error?.code === "provider_unavailable") log.push("Try the next provider.");
  }

  const balance = await api.GET("/api/v1/pot/balance/");
  if (balance.data) log.push(`${balance.data.pot_balance} POT, level ${balance.data.level.name}`);

  const rows = await api.GET("/api/v1/pot/transactions/", { params: { query: { transaction_type: "spend" } } });
  for (const row of rows.data?.results ?? []) {
    const effect: string | undefined = row.effect?.description;
    log.push(`${row.amount} ${row.reason} ${effect ?? ""}`);
  }

  const spend = await api.POST("/api/v1/pot/spend/", {
    body: { option: "extra_matches" },
    params: { header: { "Idempotency-Key": "spend-extra-matches-1" } },
  });
  if (spend.error) {
    switch (spend.error.code) {
      case "insufficient_pot":
        log.push("Earn more POT first.");
        break;
      case "idempotency_key_reused":
        log.push("That key was used for another purchase.");
        break;
      default:
        log.push(describe(spend.error));
    }
  } else {
    const replayed = spend.response.headers.get("Idempotent-Replayed") === "true";
    log.push(`Bought ${spend.data.effect.description}; ${spend.data.balance_after} POT left${replayed ? " (replayed)" : ""}`);
  }

  const redeemed = await api.POST("/api/v1/pot/redeem/", { body: { pot_amount: 500, payment_method: "PayPal" } });
  if (redeemed.error?.code === "below_minimum" || redeemed.error?.code === "not_redeemable") log.push(redeemed.error.detail);
  if (redeemed.data) log.push(`Redemption ${redeemed.data.id}: ${redeemed.data.status}`);
  if (redeemed.response.status === 429) log.push(`Wait ${redeemed.response.headers.get("Retry-After") ?? "a minute"}s.`);
  return log;
}
