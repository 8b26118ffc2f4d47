/**
 * The built-in policy used when no policy file is configured: a safe sample for localhost.
 * Groups and users are requirements, not match conditions: a non-admin on /admin is denied,
 * never passed on to a later, looser rule.
 */
export const SAMPLE_POLICY = `# Vigil built-in sample policy (set VIGIL_POLICY to use your own file)
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: health, paths: ["/healthz"], action: bypass }
  - { name: public, paths: ["/public/**"], action: bypass }
  - { name: admin, paths: ["/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: payments, paths: ["/api/payments/**"], methods: [POST, PUT, PATCH, DELETE], action: stepup, max_age: 0 }
  - { name: app, action: authenticated }
default: deny
`;
