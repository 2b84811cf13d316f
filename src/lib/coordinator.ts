/** The stub for one organization's coordinator, created near the D1 primary when hinted. */
export function coordinatorFor(env: Env, organizationId: string) {
  const id = env.ORG_COORDINATOR.idFromName(organizationId);
  const hint = env.COORDINATOR_LOCATION_HINT as DurableObjectLocationHint | '' | undefined;
  return hint ? env.ORG_COORDINATOR.get(id, { locationHint: hint }) : env.ORG_COORDINATOR.get(id);
}
