// Types for js-md4 (the package ships none): only what engine/auth/ntlm uses.
declare module 'js-md4' {
  const md4: { arrayBuffer(message: string | ArrayBuffer | Uint8Array): ArrayBuffer };
  export default md4;
}
