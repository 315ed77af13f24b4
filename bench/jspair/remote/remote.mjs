// The JavaScript callee (../callee), under a name of its own so that it can
// run in another workerd than the JavaScript pair. wrangler's bundler follows
// the link devstack stages to this file, so the import resolves from here.
export { default } from "../callee/callee.mjs";
