"""Request and response shapes of the JSON API (pydantic), one module per resource. Field
names here are the API's contract with the web viewer and API clients: change them only
with docs/serve.md."""
