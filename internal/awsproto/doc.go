// Package awsproto is the server side of the AWS wire protocols, written once
// for every service berth serves. Service packages register a Service with
// typed operations and never see raw HTTP.
//
// # Protocols
//
//   - awsJson1.0 / awsJson1.1 (ECS, ECR): POST with X-Amz-Target
//     "Prefix.Operation"; JSON in and out; errors are {"__type", "message"}
//     plus the X-Amzn-Errortype header.
//   - awsQuery (STS, IAM, ELBv2): form-encoded parameters (Action, Version,
//     Name.member.N lists, Name.entry.N.key/.value maps, Name.Member
//     structures) in the body or query string; responses are
//     <OpResponse><OpResult>...</OpResult><ResponseMetadata>... documents
//     and errors <ErrorResponse><Error><Type><Code><Message>. The service is
//     found from the SigV4 credential scope's signing name.
//   - restJson1 (EKS): the service's Routes (ServeMux patterns such as
//     "GET /clusters/{name}") select the operation; inputs come from the
//     JSON body and from fields tagged location:"uri"|"querystring"|"header"
//     with locationName; errors carry the code in X-Amzn-Errortype.
//
// One set of struct tags serves every protocol: `json` names the JSON
// member, and the awsQuery/XML member is the `query` tag or else the json
// name with its first letter upper-cased.
//
// # Registering a service
//
// A service builds a Service (signing name, protocol, target prefix or XML
// namespace or routes) whose Ops are usually made with Handle:
//
//	svc := &awsproto.Service{
//		SigningName: "ecs", Protocol: awsproto.JSON11,
//		TargetPrefix: "AmazonEC2ContainerServiceV20141113",
//		Ops: map[string]awsproto.Op{
//			"CreateCluster": awsproto.Handle(s.createCluster),
//		},
//		MapError: mapFault,
//	}
//	h := awsproto.NewRouter(awsproto.RouterConfig{Auth: awsproto.NewSigV4(cfg)}, svc)
//
// # Request flow and errors
//
// The Router assigns a request ID (x-amzn-RequestId on every response),
// reads the body under a size limit (413), authenticates it (SigV4 via the
// Authenticator), resolves the service and operation, decodes the input
// (type errors become SerializationException for JSON protocols and
// ValidationError for awsQuery), runs the operation and encodes its output,
// recovering panics as InternalFailure.
//
// An operation returns either an *Error, which goes on the wire as is, or
// any other error, which the service's MapError turns into an *Error
// (typically from a fault.Error); anything left over is a 500
// InternalFailure. Authentication failures are produced in the awsJson
// spelling and respelled by the Router for the protocol of the request
// (for example InvalidSignatureException becomes SignatureDoesNotMatch for
// awsQuery).
package awsproto
