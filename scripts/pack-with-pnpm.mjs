// The `prepack` of the packages that depend on proxy-client: npm's pack (and publish) would
// leave that dependency as `workspace:*`, and npm's install then fails with no word of why.
// pnpm's pack writes the real version in its place. Told apart by the program running the
// script, which npm always sets to its own (npm_config_user_agent may come from a pnpm above).
if (!/[\\/]pnpm(\.c?js)?$/.test(process.env.npm_execpath ?? '')) {
  console.error(
    `${process.env.npm_package_name}: pack it with pnpm (\`npx -y pnpm@10.34.8 pack\`, as the README says): ` +
      "npm would leave its proxy-client dependency as 'workspace:*', which no npm install resolves",
  );
  process.exit(1);
}
