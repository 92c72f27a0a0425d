"""What the expressions of one unit of Keras code evaluate to, as nodes of its graph.

Calls become layer constructions, layer applications, activation functions,
residual sums, calls of helpers of the same file, or unknown operations (whose
consumers stay unresolved); names evaluate to what they are bound to.
"""

from __future__ import annotations

import libcst as cst

from ..python.names import dotted
from .construct import LayerBuilder, input_shape
from .graph import (
    MISSING,
    NO_DEPS,
    Alias,
    Application,
    Bag,
    Layer,
    Lit,
    Node,
    Param,
    UnitRef,
    Units,
    Value,
    argument,
    fans_of,
    pass_shape,
)
from .layer_args import function_activation
from .program import Program, Site
from .scope import Scope
from .tables import (
    ACTIVATION_NAMES,
    ATTENTION_NAME,
    BUILTIN_QUERIES,
    ACTIVATION_NAMESPACES,
    ATTENTION_FUNCTIONS,
    MERGE_FUNCTIONS,
    MODEL_CALLS,
    PASS_FUNCTIONS,
    PRODUCT_FUNCTIONS,
    QUERY_FUNCTIONS,
    SCALE_FUNCTIONS,
    SUM_FUNCTIONS,
    TOP_LEVEL_ACTIVATIONS,
    namespace,
)


class Values:
    """Evaluates one unit's expressions into its graph: tensors are node ids, layers are applied."""

    def __init__(self, scope: Scope, program: Program) -> None:
        self.scope = scope
        self.graph = scope.graph
        self.program = program
        self.layers = LayerBuilder(scope, program, self.value)

    def value(self, expr: cst.BaseExpression) -> Value:
        """What an expression evaluates to: a tensor node id, a Layer, a literal, or None (unknown)."""
        if isinstance(expr, cst.Call):
            return self.call(expr)
        if isinstance(expr, (cst.Name, cst.Attribute)):
            key = dotted(expr)
            if key is None:
                return None
            bound = self.scope.lookup(key)
            if isinstance(bound, Param):  # a parameter used as a tensor (``self.x`` bound to one is a setting)
                return self.scope.param_node(bound.name) if "." not in key else None
            if isinstance(bound, Alias):
                return None
            if bound is MISSING:
                lit = self.scope.literal(expr)
                return None if lit is MISSING else Lit(lit)
            return bound
        if isinstance(expr, cst.BinaryOperation):
            left, right = self.value(expr.left), self.value(expr.right)
            op = expr.operator
            if isinstance(op, (cst.Add, cst.Subtract)) and isinstance(left, int) and isinstance(right, int):
                return self.graph.add(Node("add", (left, right), self.graph.nodes[left].shape))
            tensors = tuple(v for v in (left, right) if isinstance(v, int))
            if isinstance(op, cst.MatrixMultiply) and tensors:
                return self.graph.add(Node("weight", tensors))  # q @ k, x @ kernel: consumed linearly
            other = expr.right if isinstance(left, int) else expr.left
            shift = isinstance(op, (cst.Add, cst.Subtract)) and self.scope.literal(other) not in (MISSING, 0, 0.0)
            if len(tensors) == 1 and isinstance(op, (cst.Multiply, cst.Divide, cst.Add, cst.Subtract)) and not shift:
                # scaled by a constant, or offset by what is no tensor of this unit (a weight of the layer);
                # a literal shift (``relu6(x + 3) / 6`` is a hard sigmoid) changes which function consumes it
                return self.graph.add(Node("pass", tensors, self.graph.nodes[tensors[0]].shape))
            if len(tensors) == 2 and isinstance(op, (cst.Multiply, cst.Divide)):
                return self.graph.add(Node("mul", tensors, self.graph.nodes[tensors[0]].shape, expr=expr))
            if tensors:
                return self.graph.add(Node("unknown", tensors, expr=expr))
            lit = self.scope.literal(expr)
            return None if lit is MISSING else Lit(lit)
        if isinstance(expr, cst.ListComp) and isinstance(expr.elt, cst.Call):
            built = self.layers.construct(expr.elt)  # [Dense(64) for _ in range(3)]: one site, several layers
            if built is not None:
                return built if built.role != "sequential" else None
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
            return self.comprehension(expr)
        if isinstance(expr, cst.IfExp):
            either = [v for v in (self.value(expr.body), self.value(expr.orelse)) if isinstance(v, int)]
            return self.graph.add(Node("phi", tuple(dict.fromkeys(either)))) if either else None
        if isinstance(expr, cst.Subscript):
            base = self.value(expr.value)
            if isinstance(base, int):
                return self.graph.add(Node("pass", (base,)))
            if isinstance(base, Bag):
                return self.pick(base)
            if isinstance(base, Layer) and base.role not in ("sequential", "choice"):
                return base  # one of the layers a list comprehension built
            return None
        if isinstance(expr, (cst.List, cst.Tuple, cst.Dict)):
            return self.display(expr)
        if isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation, cst.Tuple, cst.List,
                             cst.Dict)):
            lit = self.scope.literal(expr)
            if lit is not MISSING:
                return Lit(lit)
        return None

    def tensors(self, expr: cst.BaseExpression) -> list[int]:
        """Tensor nodes an argument expression holds (lists and tuples are flattened)."""
        if isinstance(expr, (cst.List, cst.Tuple)):
            return [t for el in expr.elements for t in self.tensors(el.value)]
        if isinstance(expr, cst.Dict):
            return [t for el in expr.elements if isinstance(el, cst.DictElement) for t in self.tensors(el.value)]
        if isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.BinaryOperation, cst.Subscript, cst.IfExp)):
            value = self.value(expr)
            if isinstance(value, Bag):
                return value.tensors(self.graph)
            return [value] if isinstance(value, int) else []
        return []

    def display(self, expr: cst.List | cst.Tuple | cst.Dict) -> Value:
        """A list, tuple or dict display: a literal, or the layers and tensors it holds (a dict: its values)."""
        lit = self.scope.literal(expr)
        if lit is not MISSING and lit not in ((), {}):
            return Lit(lit)
        bag = Bag()
        for el in expr.elements:
            if isinstance(el, cst.StarredDictElement):
                continue
            value = self.value(el.value)
            if isinstance(el, cst.StarredElement) and isinstance(value, Bag):
                for item in list(value.items):
                    if not isinstance(item, int) or value.graph is self.graph:
                        bag.add(item, self.graph)
            elif isinstance(value, (int, Layer)):
                bag.add(value, self.graph)
        return bag if bag.items or not expr.elements else None

    def comprehension(self, expr: cst.ListComp | cst.GeneratorExp) -> Value:
        """``[f(layer(x)) for layer in self.layers]``: the element for any item, a list of what it gives."""
        env = self.scope.env
        saved = dict(env)
        try:
            for_in: cst.CompFor | None = expr.for_in
            while for_in is not None:
                source = self.value(for_in.iter)
                item = self.pick(source) if isinstance(source, Bag) else source if isinstance(source, Layer) else None
                for target in _targets(for_in.target):
                    env[target] = item if len(_targets(for_in.target)) == 1 else None
                for_in = for_in.inner_for_in
            value = self.value(expr.elt)
        finally:
            self.scope.env = env
            env.clear()
            env.update(saved)
        bag = Bag()
        if isinstance(value, (int, Layer)):
            bag.add(value, self.graph)
        return bag

    def pick(self, bag: Bag) -> Value:
        """One element of a list of tensors or layers, at an index the analysis does not know."""
        tensors = bag.tensors(self.graph)
        layers = list(dict.fromkeys(v for v in bag.items if isinstance(v, Layer)))
        if tensors and not layers:
            return tensors[0] if len(tensors) == 1 else self.graph.add(Node("phi", tuple(tensors)))
        if layers and not tensors:
            if len(layers) == 1:
                return layers[0]
            return Layer("choice", "", None, self.scope.stmt, self.scope.name, items=layers)
        return None

    def extend(self, bag: Bag, expr: cst.BaseExpression, one: bool) -> None:
        """``bag.append(expr)`` (one) or ``bag.extend(expr)``."""
        value = self.value(expr)
        if isinstance(value, Bag) and not one:
            for item in list(value.items):
                if not isinstance(item, int) or value.graph is self.graph:
                    bag.add(item, self.graph)
        elif isinstance(value, (int, Layer)):
            bag.add(value, self.graph)
        elif not isinstance(value, Lit):  # something the analysis does not know, applied in turn like the others
            bag.add(Layer("unknown", self.scope.code(expr), None, self.scope.stmt, self.scope.name), self.graph)

    def unknown(self, expr: cst.BaseExpression, value: Value, extra: Value = None) -> int | None:
        """A node for an operation the analysis does not model, on the tensors it uses."""
        tensors = [v for v in (value, extra) if isinstance(v, int)]
        if not tensors:
            return None
        return self.graph.add(Node("unknown", tuple(tensors), expr=expr))

    # -- calls ------------------------------------------------------------------------------

    def call(self, call: cst.Call) -> Value:
        scope = self.scope
        func = call.func
        if isinstance(func, cst.Call):  # Dense(64)(x)
            layer = self.layers.construct(func)
            if isinstance(layer, Layer):
                return self.apply(layer, call)
            return self.unknown_call(call)
        if isinstance(func, cst.Subscript):  # self.convs[level](x), self.blocks[i](x)
            picked = self.value(func)
            return self.apply(picked, call) if isinstance(picked, Layer) else self.unknown_call(call)
        key = dotted(func)
        bound = scope.lookup(key) if key is not None else MISSING
        if isinstance(bound, Layer):  # dense(x), self.fc1(x)
            return self.apply(bound, call)
        if isinstance(bound, (Param, Alias)) and call.args:  # self.activation(x): a setting called on a tensor
            inputs = self.tensors(call.args[0].value)
            act = self.layers.setting_activation(func) if inputs else None
            if act is not None:
                return self.graph.add(Node("act", (inputs[0],), self.graph.nodes[inputs[0]].shape, layer=act,
                                           act=act.activation))
            if inputs and isinstance(bound, Param) and "." not in (key or "."):  # stack_fn(x): what callers pass
                nid = self.enter(f"{bound.name}()", call, record=False)
                self.graph.nodes[nid].param = bound
                return nid
        if isinstance(bound, Units) and all(self.plain_function(n) for n in bound.names):
            called = [self.unit_call(n, call) for n in bound.names]  # either function: both consume the tensors
            return self.graph.add(Node("phi", tuple(v for v in called if isinstance(v, int))))
        if isinstance(bound, UnitRef):
            units = scope.top.units
            unit = units.get(bound.name) if bound.name in units else None
            factory = self.program.graphs.get(bound.name)
            if isinstance(unit, cst.ClassDef) or self.program.unit_kinds.get(bound.name) in ("model", "layer", "other") or (
                factory is not None and factory.returned_layer is not None
            ):
                return self.layers.construct(call)
            return self.unit_call(bound.name, call)
        if _is_super_init(func, call):
            self.model_outputs(call)
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
                self.layers.super_init(call)
            return None
        cls = scope.keras_name(func)
        if cls is None:
            found = scope.project_name(func) if bound is MISSING else None
            if found is not None:  # a class or function of another project file
                return self.layers.construct(call) if found[0] == "class" else self.unit_call(found[1], call)
            return self.unknown_call(call)
        if cls == "Input":  # keras.Input returns a tensor; InputLayer is a layer (see LayerBuilder)
            scope.deps = set()
            shape = input_shape(scope, call)
            return self.graph.add(Node("input", shape=shape, deps=frozenset(scope.deps)))
        if cls in MODEL_CALLS:
            self.model_outputs(call)
            return None
        qualified = scope.qualify(func)
        if cls[:1].isupper():
            return self.layers.construct(call)
        space = namespace(qualified)
        if space == "layers" and cls in MERGE_FUNCTIONS:
            inputs = self.tensors(call.args[0].value) if call.args else []
            if not inputs:
                return None
            op = MERGE_FUNCTIONS[cls]
            return self.graph.add(Node(op, tuple(inputs), self.graph.nodes[inputs[0]].shape if op == "add" else None))
        if cls in ACTIVATION_NAMES and (space in ACTIVATION_NAMESPACES or
                                        (qualified or "").split(".")[:1] == ["tensorflow"] and cls in TOP_LEVEL_ACTIVATIONS):
            inputs = self.tensors(call.args[0].value) if call.args else []
            if not inputs:
                return None
            act = function_activation(scope, cls, call)
            return self.graph.add(Node("act", (inputs[0],), self.graph.nodes[inputs[0]].shape, act=act))
        return self.tensor_function(cls, call)

    def tensor_function(self, name: str, call: cst.Call) -> Value:
        """``keras.ops`` / ``tf`` functions of tensors: layout ops pass, shape queries read nothing,
        products and attention consume linearly, sums merge, scaling by a constant passes."""
        if name in QUERY_FUNCTIONS:
            return None
        args = [a.value for a in call.args if not a.star and a.keyword is None]
        tensors = list(dict.fromkeys(t for a in args for t in self.tensors(a)))
        if not tensors:
            return None
        if name in PASS_FUNCTIONS:  # slice_update(cache, start, update): the update passes on too
            return self.graph.add(Node("pass", tuple(tensors)))
        if name == "einsum" and len(tensors) == 1:
            return self.graph.add(Node("pass", tuple(tensors)))  # einsum("bhqd->bqhd", x): a permutation
        if name in PRODUCT_FUNCTIONS or name in ATTENTION_FUNCTIONS:
            return self.graph.add(Node("weight", tuple(tensors)))
        if name in SUM_FUNCTIONS and len(tensors) == 2:
            return self.graph.add(Node("add", tuple(tensors), self.graph.nodes[tensors[0]].shape))
        if name in SCALE_FUNCTIONS and len(tensors) == 1:
            return self.graph.add(Node("pass", tuple(tensors), self.graph.nodes[tensors[0]].shape))
        if name in ("multiply", "divide", "true_divide") and len(tensors) == 2:
            return self.graph.add(Node("mul", tuple(tensors), self.graph.nodes[tensors[0]].shape, expr=call))
        return self.unknown_call(call)

    def unknown_call(self, call: cst.Call) -> Value:
        func = dotted(call.func)
        if func in BUILTIN_QUERIES:
            return None  # len(x), getattr(x, "_keras_mask", None), isinstance(x, ...): no consumer
        tensors = [t for arg in call.args for t in self.tensors(arg.value)]
        if not tensors:
            return None
        if func is not None and ATTENTION_NAME.search(func.rpartition(".")[2]):
            return self.graph.add(Node("weight", tuple(dict.fromkeys(tensors))))  # attention: consumed linearly
        if func is None:
            return self.graph.add(Node("unknown", tuple(tensors), expr=call))
        return self.graph.add(Node("unknown", tuple(tensors), what=f"consumed by {func}()"))

    def plain_function(self, name: str) -> bool:
        """Whether ``name`` is a function of this file that computes on tensors (not a class or layer factory)."""
        factory = self.program.graphs.get(name)
        return (name in self.scope.top.units and not isinstance(self.scope.top.units[name], cst.ClassDef)
                and self.program.unit_kinds.get(name) not in ("model", "layer", "other")
                and not (factory is not None and factory.returned_layer is not None))

    def unit_call(self, unit: str, call: cst.Call) -> Value:
        """A call of a helper function (of this file or the project): tensors bind to its parameters."""
        self.program.site_args.setdefault(unit, []).append(self.scope.passed_args(call))
        self.program.calls.setdefault(unit, []).append(Site(self.scope.snapshot(), call, self.scope.name))
        return self.enter(unit, call)

    def enter(self, unit: str, call: cst.Call, record: bool = True) -> int:
        """A node for calling ``unit`` on the tensors of ``call`` (each named by the parameter it binds)."""
        inputs: list[int] = []
        names: list[str] = []
        for i, arg in enumerate(call.args):
            name = arg.keyword.value if arg.keyword is not None else f"#{i}"
            for t in self.tensors(arg.value):
                inputs.append(t)
                names.append(name)
        nid = self.graph.add(Node("unit", tuple(inputs), unit=unit, params=tuple(names)))
        if record:
            self.program.sites.setdefault(unit, []).append((self.graph, nid))
        return nid

    def model_outputs(self, call: cst.Call) -> None:
        """``keras.Model(inputs, outputs)``: the outputs are the model's heads."""
        outputs = argument(call, "outputs", 1)
        if outputs is None:
            return
        for t in self.tensors(outputs):
            self.graph.add(Node("output", (t,)))

    # -- applying layers --------------------------------------------------------------------

    def apply(self, layer: Layer, call: cst.Call) -> Value:
        if layer.role == "choice":  # self.blocks[i](x): one of them, the analysis does not know which
            outs = [v for v in (self.apply(item, call) for item in layer.items) if isinstance(v, int)]
            return self.graph.add(Node("phi", tuple(dict.fromkeys(outs)))) if outs else None
        if layer.role == "opaque":  # attention takes query, value, key: every tensor meets a projection
            inputs = [t for a in call.args for t in self.tensors(a.value)]
            return self.apply_one(layer, tuple(dict.fromkeys(inputs)))
        if layer.role == "unit":  # a block: its call's parameters get the tensors passed
            return self.enter(layer.unit, call)
        arg = argument(call, "inputs", 0)
        inputs = self.tensors(arg) if arg is not None else []
        if layer.role == "sequential":
            layer.applied = True
            return self.chain(layer, inputs[0] if inputs else None)
        return self.apply_one(layer, tuple(inputs))

    def chain(self, seq: Layer, start: int | None) -> int | None:
        """A Sequential applied to ``start`` (None: its own input): its items one after another."""
        if start is None:
            first = next((item for item in seq.items if item.role != "input"), None)
            shape = seq.input_shape or (first.input_shape if first is not None else None)
            start = self.graph.add(Node("input", shape=shape))
        current: int | None = start
        for item in seq.items:
            if current is None:
                return None
            if item.role == "sequential":
                item.applied = True
                current = self.chain(item, current)
            elif item.role == "unit":
                current = self.graph.add(Node("unit", (current,), unit=item.unit, params=("#0",)))
                self.program.sites.setdefault(item.unit, []).append((self.graph, current))
            else:
                current = self.apply_one(item, (current,))
        return current

    def apply_one(self, layer: Layer, inputs: tuple[int, ...]) -> int:
        graph = self.graph
        shape = graph.nodes[inputs[0]].shape if inputs else None
        if layer.role == "weight":
            layer.applied = True
            fan_in, fan_out, out = fans_of(layer, shape)
            before = frozenset().union(*(graph.nodes[i].deps or NO_DEPS for i in inputs))
            nid = graph.add(Node("weight", inputs, out, layer=layer, deps=before | layer.fan_deps))
            self.program.applications.append(Application(graph, nid, layer, fan_in, fan_out, before))
            return nid
        if layer.role == "act":
            return graph.add(Node("act", inputs, shape, act=layer.activation, layer=layer))
        if layer.role == "norm":
            return graph.add(Node("norm", inputs, shape))
        if layer.role == "opaque":
            return graph.add(Node("weight", inputs))  # consumes linearly; judged by no rule here
        if layer.role == "dropout":
            self.program.dropouts.append((graph, layer))
            return graph.add(Node("dropout", inputs, shape))
        if layer.role == "add":
            return graph.add(Node("add", inputs, shape))
        if layer.role == "pass":
            return graph.add(Node("pass", inputs, pass_shape(layer, [graph.nodes[i].shape for i in inputs])))
        if layer.role == "input":
            return graph.add(Node("input", shape=layer.input_shape))
        return graph.add(Node("unknown", inputs, what=f"consumed by {layer.cls}"))

    def finish(self) -> None:
        """Sequentials never applied in this unit are models of their own: expand them to an output."""
        for seq in self.layers.sequentials:
            if not seq.applied and seq.standalone_ok:
                end = self.chain(seq, None)
                if end is not None:
                    self.graph.add(Node("output", (end,)))


def _targets(target: cst.BaseAssignTargetExpression) -> list[str]:
    """The names a comprehension's ``for`` binds."""
    if isinstance(target, (cst.Tuple, cst.List)):
        return [t for el in target.elements for t in _targets(el.value)]  # type: ignore[arg-type]
    key = dotted(target)
    return [key] if key is not None else []


def _is_super_init(func: cst.BaseExpression, call: cst.Call | None = None) -> bool:
    """``super().__init__(...)`` or ``Base.__init__(self, ...)``: a subclassed Functional model passes its outputs there."""
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
        return False
    if isinstance(func.value, cst.Call) and isinstance(func.value.func, cst.Name) and func.value.func.value == "super":
        return True
    first = call.args[0].value if call is not None and call.args else None
    return isinstance(first, cst.Name) and first.value == "self"
