// Opens GraphiQL on the hub's headline query. The page's settings (the
// query, its variables, the endpoint) are a JSON block of the page: no
// inline script, so that the page's Content-Security-Policy allows
// scripts of the hub alone.
(function () {
  const settings = JSON.parse(document.getElementById('vigie-graphiql').textContent);
  const fetcher = GraphiQL.createFetcher({ url: settings.endpoint });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      query: settings.query,
      variables: JSON.stringify(settings.variables, null, 2),
      defaultQuery: settings.query,
      defaultEditorToolsVisibility: true,
    }),
  );
})();
