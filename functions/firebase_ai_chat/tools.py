"""Tools: typed definitions, the dispatcher contract and tool results.

A dispatcher is called as ``dispatch(data, name, args, continuation, chat)``
and answers with one of:

- ``ToolValue(value)``: a JSON result sent to the model;
- ``DataReduction(data)``: the chat's new ``data``, persisted and sent to the model;
- ``ToolFailure(message)``: a tool error sent to the model (the chat goes on);
- ``Continuation.suspend()``: the call finishes later (see ``continuations.py``).

``Toolset`` builds a dispatcher from plain functions whose argument schema is
a pydantic model (taken from the type hint of the second parameter).
Arguments the model gets wrong become a ``ToolFailure`` it can read, never a
crash. An exception a tool raises is logged in full and reaches the model (and
so the user) only as a short generic tool error: only ``ToolFailure`` messages
the tool's author wrote are passed through. A value or data Firestore cannot
store (see ``storable.py``), or data its model rejects, is a tool error too.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ._lazy_model import LazyModel
from .engines.base import ToolSpec
from .models import AssistantConfig
from .storable import storable_problem

logger = logging.getLogger(__name__)

DataT = TypeVar("DataT", bound=BaseModel)


class ToolValue(LazyModel):
    """A JSON result for the model."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["value"] = "value"
    value: Any = None


class DataReduction(LazyModel):
    """The chat's new ``data``: persisted with the result and sent to the model."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["data"] = "data"
    data: dict[str, Any]


class ToolFailure(LazyModel):
    """A tool error: sent to the model as the call's output, flagged as an error."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["error"] = "error"
    message: str


class Suspended(LazyModel):
    """The call will be completed later through the continuation scheduler."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["suspend"] = "suspend"


ToolResult = ToolValue | DataReduction | ToolFailure | Suspended
"""What a dispatcher answers."""

CompletedResult = ToolValue | DataReduction | ToolFailure
"""What a continuation is resumed with."""


def parse_result(document: Mapping[str, Any]) -> ToolResult:
    """Rebuild a persisted ``ToolResult`` from its ``kind``."""
    kinds: dict[str, type[BaseModel]] = {
        "value": ToolValue,
        "data": DataReduction,
        "error": ToolFailure,
        "suspend": Suspended,
    }
    model = kinds.get(str(document.get("kind")))
    if model is None:
        raise ValueError(f"unknown tool result kind {document.get('kind')!r}")
    return model.model_validate(document)  # type: ignore[return-value]


MAX_FAILURE_CHARS = 2000
"""A ``ToolFailure`` message longer than this is cut (it is stored and sent to the model)."""

Resumer = Callable[[dict[str, Any]], "CompletedResult"]
"""Computes a suspended call's result from the chat data as it is when the call resumes."""


def _non_finite(value: Any) -> float | None:
    """The first ``inf`` or ``nan`` inside ``value``, if any."""
    if isinstance(value, float):
        return None if math.isfinite(value) else value
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, list | tuple) else ()
    return next((found for item in items if (found := _non_finite(item)) is not None), None)


def reduce(data: BaseModel | Mapping[str, Any]) -> DataReduction:
    """``DataReduction`` of a data model or mapping.

    Raises ``ValueError`` for a model holding ``inf`` or ``nan`` (JSON would silently turn them into ``null``).
    """
    if isinstance(data, BaseModel):
        if (found := _non_finite(data.model_dump())) is not None:
            raise ValueError(f"{found} is not a finite number")
        return DataReduction(data=data.model_dump(mode="json"))
    return DataReduction(data=dict(data))


def checked(result: ToolResult, tool: str) -> ToolResult:
    """``result`` if it can be stored and sent to the model; else a ``ToolFailure`` saying why."""
    if isinstance(result, ToolFailure):
        if len(result.message) <= MAX_FAILURE_CHARS:
            return result
        return ToolFailure(message=result.message[: MAX_FAILURE_CHARS - 1] + "…")
    payload = (
        result.data if isinstance(result, DataReduction) else result.value if isinstance(result, ToolValue) else None
    )
    problem = storable_problem(payload)
    if problem is None:
        return result
    what = "data" if isinstance(result, DataReduction) else "a result"
    logger.warning("tool %s returned %s that cannot be stored: %s", tool, what, problem)
    return ToolFailure(message=f"{tool} returned {what} that cannot be stored: {problem}.")


def unexpected_failure(tool: str) -> ToolFailure:
    """What the model (and the user) see of an exception a tool raised: no details (they are logged)."""
    return ToolFailure(message=f"{tool} failed unexpectedly. Details are in the server log.")


@dataclass(frozen=True)
class HandOver:
    """A request, made by a tool, to switch the chat to ``assistant`` (a config, or the name of one the
    worker knows), with messages for it."""

    assistant: AssistantConfig | str
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class HandBack:
    """A request, made by a tool, to return the chat to the previous assistant."""

    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatContext:
    """What a tool may know about the chat it runs in."""

    chat_id: str
    user_id: str
    dispatch_id: str
    assistant: AssistantConfig


@dataclass(frozen=True)
class Continuation:
    """The continuation of one tool call.

    ``id`` is stable for the call (give it to whatever finishes the work later);
    ``suspend()`` is what a tool returns to finish later.
    """

    id: str

    @staticmethod
    def suspend() -> Suspended:
        """The result that suspends the tool call."""
        return Suspended()


@dataclass
class ToolContext(Generic[DataT]):
    """Passed to a tool function: the chat data, the chat, the continuation and hand-over actions."""

    data: DataT
    chat: ChatContext
    continuation: Continuation
    actions: list[HandOver | HandBack] = field(default_factory=list)

    def hand_over(self, assistant: AssistantConfig | str, *, messages: Sequence[str] = ()) -> None:
        """After this turn's tools, switch the chat to ``assistant`` (the current one is stacked): a
        config, or the name of an assistant of the ``ChatApp``.

        ``messages`` are the new assistant's input; without them it gets the user's messages of
        the command being run (the request that made the chat change hands).
        """
        self.actions.append(HandOver(assistant=assistant, messages=tuple(messages)))

    def hand_back(self, *, messages: Sequence[str] = ()) -> None:
        """After this turn's tools, return the chat to the assistant it was handed over from."""
        self.actions.append(HandBack(messages=tuple(messages)))


@dataclass(frozen=True)
class Dispatch:
    """A dispatcher's answer: the result plus the hand-over actions the tool asked for."""

    result: ToolResult
    actions: tuple[HandOver | HandBack, ...] = ()


class ToolsDispatcher(Protocol):
    """Runs the tools of one assistant (chosen by ``config.dispatcherId``)."""

    def specs(self) -> list[ToolSpec]:
        """The tools the model may call."""
        ...

    def dispatch(
        self,
        data: Mapping[str, Any],
        name: str,
        args: str,
        continuation: Continuation,
        chat: ChatContext,
    ) -> Dispatch:
        """Run tool ``name`` with the model's raw JSON ``args``."""
        ...


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
    return checked(result, tool)


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

        def resume(data: dict[str, Any]) -> CompletedResult:
            try:
                returned = function(self.data_model.model_validate(data))
            except Exception:
                logger.exception("the resumer of %s raised", tool)
                return unexpected_failure(tool)
            result = _as_result(returned, self.data_model, tool)
            if isinstance(result, Suspended):
                return ToolFailure(message=f"{tool} cannot suspend again when it resumes.")
            return result

        return resume


def result_output(result: ToolResult) -> tuple[str, bool]:
    """The text sent to the model for a completed result, and whether it is an error."""
    if isinstance(result, ToolFailure):
        return json.dumps({"error": result.message}), True
    if isinstance(result, DataReduction):
        return json.dumps({"data": result.data}, sort_keys=True), False
    if isinstance(result, ToolValue):
        return json.dumps({"result": result.value}, sort_keys=True), False
    raise ValueError("a suspended call has no output yet")
