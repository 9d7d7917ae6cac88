"""``Toolset``: a dispatcher built from plain typed functions (arguments from the type hint of the
second parameter, a pydantic model or keyword fields)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from .._lazy_model import LazyModel
from ..engines.base import ToolSpec
from .context import ChatContext, Continuation, ToolContext
from .dispatcher import Dispatch
from .results import (
    DataReduction,
    Resumer,
    Suspended,
    ToolFailure,
    ToolResult,
    ToolValue,
    reduce,
    unexpected_failure,
)

logger = logging.getLogger(__name__)

DataT = TypeVar("DataT", bound=BaseModel)


class NoArgs(LazyModel):
    """The argument model of a tool that takes none."""

    model_config = ConfigDict(extra="ignore")


class _Arguments(LazyModel):
    """The base of the argument models built from a tool function's parameters."""

    model_config = ConfigDict(extra="forbid")


ToolFunction = Callable[..., Any]


@dataclass(frozen=True)
class _Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    function: ToolFunction
    mode: Literal["none", "model", "fields"]
    """How the arguments are passed: none, one model, or as keyword arguments."""

    def call(self, context: ToolContext[Any], parsed: BaseModel) -> Any:
        if self.mode == "none":
            return self.function(context)
        if self.mode == "model":
            return self.function(context, parsed)
        return self.function(context, **{field: getattr(parsed, field) for field in type(parsed).model_fields})


def _summary(function: ToolFunction) -> str:
    """The first paragraph of the function's docstring."""
    return (inspect.getdoc(function) or "").split("\n\n")[0].replace("\n", " ").strip()


def _arguments_of(function: ToolFunction) -> tuple[type[BaseModel], Literal["none", "model", "fields"]]:
    """The argument model of a tool function: none, its one model parameter, or built from its parameters."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    hints = get_type_hints(function, include_extras=True)
    if not parameters:
        return NoArgs, "none"
    first = hints.get(parameters[0].name)
    if len(parameters) == 1 and isinstance(first, type) and issubclass(first, BaseModel):
        return first, "model"
    fields: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.name not in hints:
            raise TypeError(f"tool {function.__name__}: annotate parameter {parameter.name!r}")
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (hints[parameter.name], default)
    model = create_model(f"{function.__name__}_arguments", __base__=_Arguments, **fields)
    return model, "fields"


def _as_result(returned: Any, data_model: type[BaseModel], tool: str) -> ToolResult:
    """Normalize what a tool returned; data must still be valid for ``data_model``."""
    try:
        if isinstance(returned, ToolValue | DataReduction | ToolFailure | Suspended):
            result: ToolResult = returned
        elif isinstance(returned, data_model):
            result = reduce(returned)
        elif isinstance(returned, BaseModel):
            result = ToolValue(value=returned.model_dump(mode="json"))
        else:
            result = ToolValue(value=returned)
        if isinstance(result, DataReduction):
            data_model.model_validate(result.data)
    except (ValueError, ValidationError) as error:
        logger.warning("tool %s returned data that cannot be stored: %s", tool, error)
        return ToolFailure(message=f"{tool} returned data that cannot be stored: {_first_line(error)}.")
    return result  # checked once, where every dispatcher's result enters the run (runtime/tool_calls.py)


def _first_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(map(str, first['loc'])) or 'data'}: {first['msg']}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _spec(tool: _Tool) -> ToolSpec:
    schema = tool.args_model.model_json_schema()
    schema.pop("title", None)
    schema.setdefault("properties", {})
    return ToolSpec(name=tool.name, description=tool.description, parameters=schema)


class Toolset(Generic[DataT]):
    """A ``ToolsDispatcher`` made of typed tool functions.

    ``@toolset.tool(description=...)`` registers ``def f(ctx: ToolContext[D], args: Args) -> ...``
    (or ``def f(ctx)`` for a tool without arguments). A tool returns a ``ToolResult``, a
    ``data_model`` instance (a reduction), or any JSON value.
    """

    def __init__(self, data_model: type[DataT]) -> None:
        self.data_model = data_model
        self._tools: dict[str, _Tool] = {}
        self._specs: list[ToolSpec] | None = None

    def tool(
        self, function: ToolFunction | None = None, *, description: str | None = None, name: str | None = None
    ) -> Any:
        """Register a tool function, as ``@toolset.tool`` or ``@toolset.tool(description=..., name=...)``.

        Its arguments are the parameters after the context: plain typed parameters (``value: float``,
        with ``Annotated[..., Field(description=...)]`` to describe them) or one pydantic model. The
        description defaults to the docstring's first paragraph; the name to the function's name.
        """

        def register(function: ToolFunction) -> ToolFunction:
            args_model, mode = _arguments_of(function)
            text = description or _summary(function)
            if not text:
                raise TypeError(f"tool {function.__name__}: give it a docstring or a description")
            tool_name = name or function.__name__
            self._tools[tool_name] = _Tool(tool_name, text, args_model, function, mode)
            self._specs = None
            return function

        return register(function) if function is not None else register

    def specs(self) -> list[ToolSpec]:
        """JSON schemas of every tool, from their argument models (built once, after the last registration)."""
        if self._specs is None:
            self._specs = [_spec(tool) for tool in self._tools.values()]
        return list(self._specs)

    def dispatch(
        self,
        data: Mapping[str, Any],
        name: str,
        args: str,
        continuation: Continuation,
        chat: ChatContext,
    ) -> Dispatch:
        """Validate the arguments, run the tool, and normalize what it returns."""
        tool = self._tools.get(name)
        if tool is None:
            return Dispatch(ToolFailure(message=f"Unknown tool {name!r}. Available: {', '.join(self._tools)}."))
        try:
            parsed = tool.args_model.model_validate_json(args or "{}")
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in error.errors())
            return Dispatch(ToolFailure(message=f"Invalid arguments for {name}: {problems}"))
        try:
            context = ToolContext(data=self.data_model.model_validate(dict(data)), chat=chat, continuation=continuation)
            returned = tool.call(context, parsed)
        except Exception:
            logger.exception("tool %s raised", name)
            return Dispatch(unexpected_failure(name))
        return Dispatch(_as_result(returned, self.data_model, name), tuple(context.actions))

    def resumer(self, tool: str, function: Callable[[DataT], Any]) -> Resumer:
        """A ``Resumer`` for ``ContinuationScheduler.resume``: ``function`` gets the chat data as it is
        when the call resumes (typed) and returns what a tool returns (a data model instance is a
        reduction). Its exceptions and unstorable results become tool errors, as a tool's do."""

        def resume(data: dict[str, Any]) -> ToolResult:  # guarded and checked where it is called (resume)
            return _as_result(function(self.data_model.model_validate(data)), self.data_model, tool)

        return resume
