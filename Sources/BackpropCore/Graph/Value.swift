/// A scalar in an expression graph, with the gradient of the graph's output with respect to it.
///
/// Every operation on `Value`s makes a new `Value` that remembers its operands (`parents`),
/// the operation's name (`op`) and how to compute its local derivatives `∂out/∂parentᵢ`.
/// `backward()` then applies the chain rule in reverse topological order:
///
///     ∂f/∂p = Σ over the children c of p:  ∂f/∂c · ∂c/∂p
///
/// so a value used twice receives the sum of the gradients along both paths.
///
/// Everything is in `Double`: the graph is an oracle for the `Float` backends, so it must be
/// the more precise of the two. Nothing here recurses: the topological sort walks an explicit
/// stack and `deinit` tears long chains down iteratively, so a chain of 100 000 nodes neither
/// overflows the stack when its gradients are computed nor when it is released.
public final class Value {
    /// The value computed by the forward pass.
    public var data: Double
    /// `∂f/∂self` for the output `f` of the last `backward()` that reached this value.
    public var grad: Double = 0
    /// The operation that made this value (`.leaf` for an input or a parameter).
    public let op: Operation
    /// A name for printing and DOT export (`"q"`, `"θ₂"`); empty if the value has none.
    public var label: String
    /// The operands, in order; empty for a leaf (an input or a parameter).
    public private(set) var parents: [Value]
    /// `∂self/∂parents[i]` for each parent, computed from the current data. It receives `self`
    /// rather than capturing it, so no `Value` ever holds a reference cycle.
    private let local: (Value) -> [Double]

    /// A leaf: an input, a parameter or a constant.
    public init(_ data: Double, label: String = "") {
        self.data = data
        self.label = label
        op = .leaf
        parents = []
        local = { _ in [] }
    }

    /// The result of operation `op` on `parents`, with its local derivatives.
    init(_ data: Double, op: Operation, parents: [Value], label: String = "",
         local: @escaping (Value) -> [Double]) {
        self.data = data
        self.op = op
        self.parents = parents
        self.label = label
        self.local = local
    }

    /// True for an input, a parameter or a constant.
    public var isLeaf: Bool { parents.isEmpty }

    /// `∂self/∂parents[i]` for each parent: the derivative of this operation alone.
    public var localDerivatives: [Double] { local(self) }

    // MARK: Backward pass

    /// Computes `∂self/∂v` for every value `v` this one depends on, and stores it in `v.grad`.
    ///
    /// Semantics: **reset, then compute.** Every gradient in this value's graph is first set to
    /// zero, then `self.grad = 1` and the chain rule runs in reverse topological order. Calling
    /// `backward()` twice therefore gives the same gradients as calling it once. Gradients of
    /// values outside this graph are not touched; a value shared by two graphs holds the
    /// gradient of whichever output ran `backward()` last.
    public func backward() {
        let order = topologicalOrder()
        for v in order { v.grad = 0 }
        grad = 1
        for v in order.reversed() where !v.parents.isEmpty {
            for (p, d) in zip(v.parents, v.localDerivatives) {
                p.grad += d * v.grad                         // ∂f/∂p += ∂f/∂v · ∂v/∂p
            }
        }
    }

    /// Every value this one depends on, itself included, each once, each after all its parents
    /// (so `self` is last). An iterative depth-first search with an explicit stack.
    public func topologicalOrder() -> [Value] {
        var order: [Value] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var stack: [(node: Value, next: Int)] = [(self, 0)]
        while let top = stack.last {
            if top.next < top.node.parents.count {
                stack[stack.count - 1].next += 1
                let parent = top.node.parents[top.next]
                if visited.insert(ObjectIdentifier(parent)).inserted { stack.append((parent, 0)) }
            } else {
                order.append(top.node)
                stack.removeLast()
            }
        }
        return order
    }

    // MARK: Release

    /// Releases the graph below this value without recursion. Releasing the last reference to
    /// the head of a long chain would otherwise release its parent from inside this `deinit`,
    /// that parent's parent from inside that one, and so on: one stack frame per node.
    /// Instead, every parent this value holds the only reference to is emptied here, in a loop,
    /// before it is released, so each `deinit` below finds no parents left.
    deinit {
        var pending = parents
        parents.removeAll()
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) {
                pending.append(contentsOf: node.parents)
                node.parents.removeAll()
            }
        }
    }
}

extension Value: CustomStringConvertible {
    /// `label(data: …, grad: …)`, or `Value(…)` for a node without a label.
    public var description: String {
        let name = label.isEmpty ? "Value" : label
        return "\(name)(data: \(data), grad: \(grad))"
    }
}
