import packageJson from '../package.json' with { type: 'json' };

/** The proxy-server package version, as published. */
export const VERSION: string = packageJson.version;
