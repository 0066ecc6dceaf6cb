"""``/api/docs``: the OpenAPI document (:mod:`bot.web.openapi`) as one self-contained page.

Rendered on the server, with its style inline and no script: a call center's machines
often have no internet, so the usual documentation pages, which load their scripts
from CDNs, would stay blank there. Every operation shows its parameters, request body,
answers with their fields, and an example of each body (the model's own example, else
one made from its schema).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any, cast

from quart import Quart, Response
from quart_schema import hide

from bot.web.openapi import install as install_openapi
from bot.web.openapi import openapi_document

TAG_ORDER = ("cti", "audio", "calls", "campaigns", "nlu", "knowledge", "knowledge admin", "health")
MAX_DEPTH = 6  # nested schemas shown; deeper ones are named only
_STYLE = """
body{font:15px/1.5 system-ui,"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:0;color:#222}
main{max-width:70rem;margin:auto;padding:1rem 2rem}nav{columns:2;font-size:14px}
h2{border-bottom:1px solid #ccc;margin-top:2.5rem}h3{margin:2rem 0 .3rem;font-family:monospace;font-size:17px}
.m{display:inline-block;min-width:4.5em;padding:0 .4em;margin-right:.5em;border-radius:3px;color:#fff}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#8d6e00}.delete{background:#b71c1c}
table{border-collapse:collapse;margin:.3rem 0 1rem}td,th{border:1px solid #ddd;padding:.2rem .5rem;
text-align:left;vertical-align:top}pre{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:13px}
code{font-size:13px}.sec{color:#6a1b9a}.small{color:#666;font-size:13px}
"""


def install(app: Quart, *, title: str, description: str) -> None:
    """Serve ``/openapi.json`` and ``/api/docs`` from ``app``."""
    install_openapi(app, title=title, description=description)
    page: list[str] = []

    @hide
    async def api_docs() -> Response:
        if not page:
            page.append(render(openapi_document(app)))
        return Response(page[0], content_type="text/html; charset=utf-8")

    app.add_url_rule("/api/docs", "api_docs", api_docs, methods=["GET"])


def render(document: dict[str, Any]) -> str:
    """The whole page for an OpenAPI document."""
    components = document.get("components", {})
    info = document["info"]
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in sorted(item.items())
    ]
    tags: dict[str, list[tuple[str, str, dict[str, Any]]]] = {tag: [] for tag in TAG_ORDER}
    for entry in operations:
        tags.setdefault((entry[2].get("tags") or ["other"])[0], []).append(entry)
    out = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(info['title'])} API</title><style>{_STYLE}</style></head><body><main>",
        f"<h1>{escape(info['title'])} API <span class=small>{escape(info['version'])}</span></h1>",
        f"<p>{escape(info.get('description', ''))}</p>",
        '<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a>.</p>',
        _security(components.get("securitySchemes", {})),
        _errors(components),
        "<nav>",
        *(f'<div><a href="#{_anchor(m, p)}">{m.upper()} {escape(p)}</a></div>' for p, m, _ in operations),
        "</nav>",
    ]
    for tag, entries in tags.items():
        if not entries:
            continue
        out.append(f"<h2>{escape(tag)}</h2>")
        out.extend(_operation(path, method, operation, components) for path, method, operation in entries)
    out.append("</main></body></html>")
    return "\n".join(out)


def _anchor(method: str, path: str) -> str:
    return escape(f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""))


def _security(schemes: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td class=sec>{escape(name)}</td><td>{escape(_scheme_kind(scheme))}</td>"
        f"<td>{escape(scheme.get('description', ''))}</td></tr>"
        for name, scheme in schemes.items()
    )
    return f"<h2>Security schemes</h2><table><tr><th>name</th><th>how</th><th></th></tr>{rows}</table>"


def _scheme_kind(scheme: dict[str, Any]) -> str:
    if scheme.get("type") == "http":
        return f"Authorization: {str(scheme.get('scheme', '')).title()} <token>"
    return f"{scheme.get('in')} {scheme.get('name')}"


def _operation(path: str, method: str, operation: dict[str, Any], components: dict[str, Any]) -> str:
    out = [
        f'<h3 id="{_anchor(method, path)}"><span class="m {escape(method)}">{method.upper()}</span>'
        f"{escape(path)}</h3>",
        f"<p><b>{escape(operation.get('summary', ''))}</b></p>",
    ]
    if operation.get("description"):
        out.append(f"<p>{escape(operation['description'])}</p>")
    if operation.get("security"):
        names = " or ".join(name for need in operation["security"] for name in need) or "none"
        out.append(f"<p>Credentials: <span class=sec>{escape(names)}</span></p>")
    out.append(_parameters(operation.get("parameters", []), components))
    body = operation.get("requestBody")
    if body:
        out.append("<h4>Request body</h4>")
        out.extend(_content(body.get("content", {}), components))
    out.append("<h4>Responses</h4>")
    for status, response in operation.get("responses", {}).items():
        out.append(f"<p><b>{escape(str(status))}</b> {escape(response.get('description', ''))}</p>")
        out.extend(_content(response.get("content", {}), components, brief=str(status) >= "400"))
    return "\n".join(out)


def _parameters(parameters: list[dict[str, Any]], components: dict[str, Any]) -> str:
    if not parameters:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{'yes' if p.get('required') else ''}</td>"
        f"<td><code>{escape(_type(p.get('schema', {}), components))}</code></td>"
        f"<td>{escape(p.get('description') or p.get('schema', {}).get('description', ''))}</td></tr>"
        for p in parameters
    )
    return (
        "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>type</th>"
        f"<th></th></tr>{rows}</table>"
    )


def _errors(components: dict[str, Any]) -> str:
    error = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
    return "\n".join(
        [
            "<h2>Errors</h2><p>The JSON APIs answer every error with this body; the CTI's endpoints "
            "(/cti/…) answer the reason as plain text.</p>",
            *_content({"application/json": error}, components),
        ]
    )


def _content(content: dict[str, Any], components: dict[str, Any], *, brief: bool = False) -> list[str]:
    out = []
    for media, body in content.items():
        schema = body.get("schema", {})
        out.append(f"<p class=small>{escape(media)}: <code>{escape(_type(schema, components))}</code></p>")
        if brief:
            continue
        fields = _fields(schema, components, 0)
        if fields:
            out.append(fields)
        example = body.get("example", _example(schema, components, 0))
        if example is not None and example != "":
            text = example if isinstance(example, str) else json.dumps(example, ensure_ascii=False, indent=2)
            out.append(f"<pre>{escape(text)}</pre>")
    return out


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found: dict[str, Any] = components.get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
        return found
    return schema


def _type(schema: dict[str, Any], components: dict[str, Any]) -> str:
    """A schema's type in a few words: ``integer (≥ 1, ≤ 50)``, ``array of Entry``…"""
    named = _named_type(schema, components)
    if named is not None:
        return named
    kind = schema.get("type", "any")
    limits = [
        f"{name} {schema[key]}"
        for key, name in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
        )
        if key in schema
    ]
    return f"{kind} ({', '.join(limits)})" if limits else str(kind)


def _named_type(schema: dict[str, Any], components: dict[str, Any]) -> str | None:
    """A reference, a choice, a constant, an array or a map; None for a plain type."""
    choices = schema.get("anyOf") or schema.get("oneOf")
    extra = schema.get("additionalProperties")
    described: str | None = None
    if "$ref" in schema:
        described = str(schema["$ref"]).rsplit("/", 1)[-1]
    elif "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        described = " | ".join(json.dumps(v, ensure_ascii=False) for v in values)
    elif choices:
        described = " | ".join(_type(option, components) for option in choices)
    elif schema.get("type") == "array":
        described = f"array of {_type(schema.get('items', {}), components)}"
    elif schema.get("type") == "object" and extra is not None and "properties" not in schema:
        described = f"object of {_type(extra, components) if isinstance(extra, dict) else 'any'}"
    return described


def _fields(schema: dict[str, Any], components: dict[str, Any], depth: int) -> str:
    schema = _resolve(schema, components)
    if schema.get("type") == "array":
        return _fields(schema.get("items", {}), components, depth)
    properties = schema.get("properties")
    if not properties or depth >= MAX_DEPTH:
        return ""
    required = set(schema.get("required", []))
    rows = []
    for name, field in properties.items():
        inner = _fields(_nested(field), components, depth + 1)
        rows.append(
            f"<tr><td><code>{escape(name)}</code>{' *' if name in required else ''}</td>"
            f"<td><code>{escape(_type(field, components))}</code></td>"
            f"<td>{escape(field.get('description', ''))}{inner}</td></tr>"
        )
    return f"<table>{''.join(rows)}</table>"


def _nested(field: dict[str, Any]) -> dict[str, Any]:
    """The object schema inside a field: itself, its items, or its one non-null option."""
    options = [o for o in field.get("anyOf", []) if o.get("type") != "null"]
    return cast(dict[str, Any], options[0]) if len(options) == 1 else field


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int) -> Any:
    """The schema's own example, else its default or first value, else one made from it."""
    schema = _resolve(schema, components)
    given = [
        *schema.get("examples", [])[:1],
        *([schema["default"]] if schema.get("default") is not None else []),
        *schema.get("enum", [])[:1],
    ]
    if given:
        return given[0]
    if schema.get("anyOf") or schema.get("oneOf"):
        inner = _nested(schema)
        return None if inner is schema else _example(inner, components, depth)
    if depth >= MAX_DEPTH:
        return None
    kind = schema.get("type")
    if kind == "object":
        fields = schema.get("properties", {})
        return {name: _example(field, components, depth + 1) for name, field in fields.items()}
    if kind == "array":
        return [_example(schema.get("items", {}), components, depth + 1)]
    return {"string": "…", "integer": 0, "number": 0.0, "boolean": False}.get(str(kind))
