// Types for the two undici modules undici-core.ts loads directly (undici types only its index).
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: typeof import('undici').Agent;
  export default Agent;
}
declare module 'undici/lib/api/api-request.js' {
  function request(
    this: import('undici').Dispatcher,
    options: import('undici').Dispatcher.RequestOptions,
  ): Promise<import('undici').Dispatcher.ResponseData>;
  export default request;
}
