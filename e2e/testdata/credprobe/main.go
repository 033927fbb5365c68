// Command credprobe runs inside a task's container: it resolves the task
// role's credentials the way the AWS SDKs' default chain does for ECS
// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI against 169.254.170.2, else
// AWS_CONTAINER_CREDENTIALS_FULL_URI) with aws-sdk-go-v2's endpointcreds
// provider, calls STS GetCallerIdentity at $AWS_ENDPOINT_URL and prints
// "ARN <arn>". With PROBE_N set it then times N GETs of the credentials
// endpoint and N of the task metadata endpoint ($ECS_CONTAINER_METADATA_URI_V4/task)
// and prints "LATENCY credentials p50 p99 metadata p50 p99" in microseconds.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	uri := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		uri = "http://169.254.170.2" + rel
	}
	if uri == "" {
		fmt.Println("ERROR no container credentials variables")
		os.Exit(1)
	}
	ctx := context.Background()
	provider := endpointcreds.New(uri)
	client := sts.New(sts.Options{
		Region: os.Getenv("AWS_REGION"), Credentials: aws.NewCredentialsCache(provider),
		BaseEndpoint: aws.String(os.Getenv("AWS_ENDPOINT_URL")),
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("ARN", aws.ToString(out.Arn))
	n, _ := strconv.Atoi(os.Getenv("PROBE_N"))
	if n > 0 {
		c50, c99 := timeGets(uri, n)
		m50, m99 := timeGets(os.Getenv("ECS_CONTAINER_METADATA_URI_V4")+"/task", n)
		fmt.Println("LATENCY", c50, c99, m50, m99)
	}
}

// timeGets returns the p50 and p99 of n sequential GETs, in microseconds.
func timeGets(url string, n int) (int64, int64) {
	c := &http.Client{Timeout: 10 * time.Second}
	var d []int64
	for range n {
		start := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d = append(d, time.Since(start).Microseconds())
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}
